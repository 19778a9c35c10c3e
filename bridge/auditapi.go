package bridge

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// handleAudit answers GET /api/v1/audit (admins only, never with a task's
// token): the entries of the trail the query selects, oldest first, one
// page (offset and limit as every list takes them).
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r) {
		return
	}
	q := r.URL.Query()
	aq, err := ParseAuditQuery(q, time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	offset, limit, ok := pageParams(w, q)
	if !ok {
		return
	}
	total, err := s.store.CountAudit(r.Context(), aq)
	if err != nil {
		s.internal(w, "read the audit trail", err)
		return
	}
	pg := paginate(total, offset, limit)
	var entries []store.Audit
	if pg.EndIndex > pg.StartIndex {
		aq.Offset, aq.Limit = pg.StartIndex, pg.EndIndex-pg.StartIndex
		if entries, err = s.store.ListAudit(r.Context(), aq); err != nil {
			s.internal(w, "read the audit trail", err)
			return
		}
	}
	writeJSON(w, http.StatusOK, api.GetAuditResponse{Entries: AuditEntries(entries), Pagination: pg})
}

// ParseAuditQuery reads the filters of an audit query (GET
// /api/v1/audit's, or det-bridge audit's flags): since and until (RFC
// 3339, or a duration before now), actor and action (api.CheckAuditAction).
// An error names the parameter.
func ParseAuditQuery(q url.Values, now time.Time) (store.AuditQuery, error) {
	aq := store.AuditQuery{Actor: q.Get("actor"), Action: q.Get("action")}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"since", &aq.Since}, {"until", &aq.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := api.ParseAuditTime(p.name, v, now)
			if err != nil {
				return aq, err
			}
			*p.to = t
		}
	}
	if !aq.Since.IsZero() && !aq.Until.IsZero() && !aq.Until.After(aq.Since) {
		return aq, fmt.Errorf("until: %s is not after since (%s)", aq.Until.UTC().Format(time.RFC3339), aq.Since.UTC().Format(time.RFC3339))
	}
	if aq.Action != "" {
		if err := api.CheckAuditAction(aq.Action); err != nil {
			return aq, err
		}
	}
	return aq, nil
}

// AuditEntries are the store's entries as the API shows them ([] for
// none).
func AuditEntries(list []store.Audit) []api.AuditEntry {
	out := make([]api.AuditEntry, 0, len(list))
	for _, a := range list {
		out = append(out, api.AuditEntry{Time: a.Time.UTC(), Actor: a.Actor, Action: a.Action, Target: a.Target, Source: a.Source, Detail: a.Detail})
	}
	return out
}
