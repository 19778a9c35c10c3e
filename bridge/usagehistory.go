package bridge

import (
	"context"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/det-slurm/bridge/bridge/metrics"
	"github.com/det-slurm/bridge/bridge/store"
)

// The usage history: once a minute the bridge writes, per pool, the GPUs
// in use and held idle, and the queue waits and cancellations since the
// minute before; rows older than usageKeep are deleted once a day.
const (
	usageStep  = time.Minute
	usageKeep  = 30 * 24 * time.Hour
	usagePrune = 24 * time.Hour
)

// usageCollector gathers, per pool, the queue waits and cancellations
// between two samples of the usage history.
type usageCollector struct {
	mu    sync.Mutex
	pools map[string]*poolEvents
}

// poolEvents are one pool's queue waits (seconds) and cancellations by
// reason.
type poolEvents struct {
	waits             []float64
	idle, user, admin int
}

// at returns pool's events, made when missing; c.mu is held.
func (c *usageCollector) at(pool string) *poolEvents {
	if c.pools == nil {
		c.pools = map[string]*poolEvents{}
	}
	e := c.pools[pool]
	if e == nil {
		e = &poolEvents{}
		c.pools[pool] = e
	}
	return e
}

func (c *usageCollector) started(pool string, wait time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.at(pool)
	e.waits = append(e.waits, wait.Seconds())
}

func (c *usageCollector) cancelled(pool, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.at(pool)
	switch reason {
	case cancelIdle:
		e.idle++
	case cancelUser:
		e.user++
	case cancelAdmin:
		e.admin++
	}
}

// take returns the events gathered so far and starts afresh.
func (c *usageCollector) take() map[string]*poolEvents {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pools
	c.pools = nil
	return p
}

// jobStarted records the queue wait of a job Slurm started, in the
// metrics and in the usage history.
func (s *Server) jobStarted(pool string, wait time.Duration) {
	s.metrics.Started(pool, wait)
	s.usage.started(pool, wait)
}

// jobCancelled records a job the bridge cancelled for reason (cancelIdle,
// cancelUser, cancelAdmin), in the metrics and in the usage history.
func (s *Server) jobCancelled(pool, reason string) {
	s.metrics.Cancelled(reason)
	s.usage.cancelled(pool, reason)
}

// percentile is the p-th percentile (0..100) of sorted values, linearly
// interpolated between the two nearest ranks.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (rank-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// waitPercentiles are the median and 95th percentile of waits, nil for
// none.
func waitPercentiles(waits []float64) (p50, p95 *float64) {
	if len(waits) == 0 {
		return nil, nil
	}
	sorted := slices.Clone(waits)
	slices.Sort(sorted)
	a, b := percentile(sorted, 50), percentile(sorted, 95)
	return &a, &b
}

// usageRows makes a minute's rows: one for each pool of gpus (every
// configured pool), then one for each other pool that had events, by
// name.
func usageRows(minute time.Time, gpus []metrics.PoolGPUs, events map[string]*poolEvents) []store.UsageRow {
	row := func(pool string) store.UsageRow {
		r := store.UsageRow{Time: minute, Pool: pool}
		if e := events[pool]; e != nil {
			r.QueueWaitP50, r.QueueWaitP95 = waitPercentiles(e.waits)
			r.CancelIdle, r.CancelUser, r.CancelAdmin = e.idle, e.user, e.admin
		}
		return r
	}
	seen := map[string]bool{}
	rows := make([]store.UsageRow, 0, len(gpus)+len(events))
	for _, g := range gpus {
		r := row(g.Pool)
		r.GPUsAllocated, r.GPUsIdle = g.Allocated, g.Idle
		rows = append(rows, r)
		seen[g.Pool] = true
	}
	for _, pool := range slices.Sorted(maps.Keys(events)) {
		if !seen[pool] {
			rows = append(rows, row(pool))
		}
	}
	return rows
}

// sampleUsage writes the current minute of the usage history.
func (s *Server) sampleUsage(ctx context.Context) { s.writeUsage(ctx, time.Now()) }

// writeUsage writes the minute of now: each pool's GPUs now, and the
// queue waits and cancellations gathered since the last write.
func (s *Server) writeUsage(ctx context.Context, now time.Time) {
	live, err := s.store.LiveTasks(ctx)
	if err != nil {
		s.log.Error("usage history: list live tasks", "err", err)
		return
	}
	rows := usageRows(now.UTC().Truncate(time.Minute), s.poolGPUs(live, now), s.usage.take())
	if err := s.store.AddUsage(ctx, rows); err != nil {
		s.log.Error("usage history: write a minute", "err", err)
	}
}

// pruneUsage deletes the usage history older than usageKeep.
func (s *Server) pruneUsage(ctx context.Context) {
	n, err := s.store.PruneUsage(ctx, time.Now().Add(-usageKeep))
	if err != nil {
		s.log.Error("prune usage history", "err", err)
		return
	}
	if n > 0 {
		s.log.Info("pruned usage history", "rows", n, "older_than", usageKeep.String())
	}
}
