package bridge

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// The hours of usage history GET /api/v1/admin/usage answers with: by
// default, and at most (the 30 days the history keeps).
const (
	usageDefaultHours = 24
	usageMaxHours     = 720
)

// handleUsage answers GET /api/v1/admin/usage?hours=N (admins only): each
// pool's usage history over the last N hours, one point a minute.
func (s *Server) handleUsage(w http.ResponseWriter, r *http.Request) {
	hours, err := usageHours(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	to := time.Now().UTC().Truncate(time.Second)
	from := to.Add(-time.Duration(hours) * time.Hour)
	rows, err := s.store.Usage(r.Context(), from, to)
	if err != nil {
		s.internal(w, "read the usage history", err)
		return
	}
	writeJSON(w, http.StatusOK, api.UsageResponse{From: from, To: to, StepSeconds: int(usageStep / time.Second),
		Pools: s.poolUsage(rows)})
}

// usageHours reads the hours query parameter: usageDefaultHours when it is
// absent, else a whole number from 1 to usageMaxHours.
func usageHours(q url.Values) (int, error) {
	v := q.Get("hours")
	if v == "" {
		return usageDefaultHours, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > usageMaxHours {
		return 0, fmt.Errorf("hours: %q is not a whole number of hours from 1 to %d", v, usageMaxHours)
	}
	return n, nil
}

// poolUsage groups rows (by pool, then time) into each configured pool's
// points, an empty list for a pool without any, then those of pools no
// longer configured, by name.
func (s *Server) poolUsage(rows []store.UsageRow) []api.PoolUsage {
	byPool := map[string][]api.UsagePoint{}
	for _, r := range rows {
		byPool[r.Pool] = append(byPool[r.Pool], api.UsagePoint{
			Time:          r.Time.UTC(),
			GPUsAllocated: r.GPUsAllocated,
			GPUsIdle:      r.GPUsIdle,
			QueueWaitP50:  r.QueueWaitP50,
			QueueWaitP95:  r.QueueWaitP95,
			Cancellations: api.Cancellations{Idle: r.CancelIdle, User: r.CancelUser, Admin: r.CancelAdmin},
		})
	}
	out := make([]api.PoolUsage, 0, len(s.cfg.ResourcePools)+len(byPool))
	add := func(pool string) {
		points := byPool[pool]
		if points == nil {
			points = []api.UsagePoint{}
		}
		out = append(out, api.PoolUsage{Pool: pool, Points: points})
		delete(byPool, pool)
	}
	for _, p := range s.cfg.ResourcePools {
		add(p.Name)
	}
	for _, pool := range slices.Sorted(maps.Keys(byPool)) {
		add(pool)
	}
	return out
}
