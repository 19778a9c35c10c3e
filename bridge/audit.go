package bridge

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// The audit trail records who logged in (or failed to, or was refused),
// who changed which user, who started and killed which task, which tasks
// the bridge cancelled, and which admin opened whose notebook through the
// proxy, with the client's address (the connection's, never a header's).
// Recording never fails what it records: a write that fails is logged.

const (
	// adminAccessWindow is how long one admin's access to one task is
	// recorded once: a notebook page makes hundreds of requests.
	adminAccessWindow = 10 * time.Minute
	// refusalWindow is how long one kind of refused login from one
	// address is recorded once: refusals cost an attacker nothing, so
	// each one may not cost a row.
	refusalWindow = time.Minute
	// auditPrune is how often entries past the site's audit_retention
	// are deleted (and once at start).
	auditPrune = 24 * time.Hour
)

// Bounds of an entry's fields: the actor of a failed login is whatever
// name was tried.
const (
	maxAuditName   = 128
	maxAuditDetail = 512
)

// audit records an entry of the audit trail, stamped now (UTC). Its text
// is made printable and bounded first (auditText).
func (s *Server) audit(ctx context.Context, a store.Audit) {
	a.Time = time.Now().UTC()
	a.Actor = auditText(a.Actor, maxAuditName)
	a.Target = auditText(a.Target, maxAuditName)
	a.Source = auditText(a.Source, maxAuditName)
	a.Detail = auditText(a.Detail, maxAuditDetail)
	if err := s.store.AddAudit(context.WithoutCancel(ctx), a); err != nil {
		s.log.Error("record an audit entry", "action", a.Action, "actor", a.Actor, "target", a.Target, "err", err)
	}
}

// auditRequest records an entry for r, from r's client address.
func (s *Server) auditRequest(r *http.Request, action, actor, target, detail string) {
	s.audit(r.Context(), store.Audit{Action: action, Actor: actor, Target: target, Source: clientAddr(r), Detail: detail})
}

// auditRefused records a login the rate limit refused because of the
// lockout of key (loginLimiter): once a minute per key and address.
func (s *Server) auditRefused(r *http.Request, actor, key string) {
	if s.refusals.first(key + "\x00" + clientAddr(r)) {
		s.auditRequest(r, api.AuditLoginRefused, actor, "", "too many failed logins "+lockedFor(key)+"; further refusals within a minute are not recorded")
	}
}

// auditAdminAccess records that admin u opened task id of owner through
// the proxy: once per admin and task within adminAccessWindow. The
// owner's own requests cost nothing here.
func (s *Server) auditAdminAccess(r *http.Request, u *store.User, id, owner string) {
	if u.Username == owner || !s.adminAccess.first(u.Username+"\x00"+id) {
		return
	}
	s.auditRequest(r, api.AuditProxyAdminAccess, u.Username, id, owner)
}

// taskDetail is a task's kind and pool, as its entries show them.
func taskDetail(t *store.Task) string {
	return t.Type + ", pool " + t.Pool
}

// pruneAudit deletes the entries older than the site's audit_retention.
func (s *Server) pruneAudit(ctx context.Context) {
	keep := s.cfg.AuditRetentionPeriod
	if keep <= 0 {
		return
	}
	n, err := s.store.PruneAudit(ctx, time.Now().Add(-keep))
	if err != nil {
		s.log.Error("prune the audit trail", "err", err)
		return
	}
	if n > 0 {
		s.log.Info("pruned audit entries past the retention", "count", n, "audit_retention", keep)
	}
}

// auditText makes s fit for the trail: control characters and bytes that
// are not UTF-8 become U+FFFD (so that an entry cannot drive the terminal
// that prints it, nor break a table's columns), and a text longer than max
// bytes is cut, ending in "…".
func auditText(s string, max int) string {
	clean := strings.Map(func(c rune) rune {
		if unicode.IsControl(c) {
			return utf8.RuneError
		}
		return c
	}, s) // Map turns bytes that are not UTF-8 into U+FFFD too
	if len(clean) <= max {
		return clean
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(clean[cut]) {
		cut--
	}
	return clean[:cut] + "…"
}
