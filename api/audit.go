package api

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// The actions of the audit trail (GET /api/v1/audit).
const (
	AuditLogin            = "login"              // a login (password or munge)
	AuditLoginFailed      = "login.failed"       // a wrong password, an unknown user, a refused munge credential
	AuditLoginRefused     = "login.refused"      // a login the rate limit refused
	AuditUserCreate       = "user.create"        // a user created; Detail lists the fields given
	AuditUserUpdate       = "user.update"        // a user changed; Detail lists the fields changed
	AuditTaskStart        = "task.start"         // a notebook or shell started (or relaunched)
	AuditTaskKill         = "task.kill"          // a notebook or shell killed by a user
	AuditTaskCancel       = "task.cancel"        // a notebook or shell cancelled by the bridge (idle)
	AuditProxyAdminAccess = "proxy.admin_access" // an admin opened another user's notebook or shell
)

// AuditActions are the actions of the audit trail.
var AuditActions = []string{AuditLogin, AuditLoginFailed, AuditLoginRefused, AuditUserCreate, AuditUserUpdate,
	AuditTaskStart, AuditTaskKill, AuditTaskCancel, AuditProxyAdminAccess}

// AuditFlag is a filter flag of `det audit` and `det-bridge audit`, named
// as the query parameter of GET /api/v1/audit it sets.
type AuditFlag struct{ Name, Default, Usage string }

// AuditFlags are the filter flags of the audit commands: the last day's
// entries unless --since says otherwise.
var AuditFlags = []AuditFlag{
	{"since", "24h", `entries from this time on: RFC 3339, or a duration before now such as 1h ("" for all)`},
	{"until", "", "entries before this time: RFC 3339, or a duration before now"},
	{"actor", "", "only the entries of this user"},
	{"action", "", "only this action (" + strings.Join(AuditActions, ", ") + "; login* for every kind of login)"},
}

// CheckAuditAction refuses an action filter of an audit query that can
// match nothing: it must be an action of the trail, or a prefix of one
// ending in "*" (login* is every kind of login).
func CheckAuditAction(v string) error {
	prefix, wild := strings.CutSuffix(v, "*")
	for _, a := range AuditActions {
		if a == v || wild && strings.HasPrefix(a, prefix) {
			return nil
		}
	}
	return fmt.Errorf("action: %q is not an action of the audit trail (%s; a prefix ending in * takes several)", v, strings.Join(AuditActions, ", "))
}

// AuditEntry is one entry of the audit trail: when (UTC), who (actor, ""
// when unknown), what (action, one of the Audit* names), to what (target:
// a task id or a user name), from where (source: the client's address)
// and a short detail.
type AuditEntry struct {
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Source string    `json:"source"`
	Detail string    `json:"detail"`
}

// GetAuditResponse is the answer of GET /api/v1/audit.
type GetAuditResponse struct {
	Entries    []AuditEntry `json:"entries"`
	Pagination Pagination   `json:"pagination"`
}

// ParseAuditTime reads the since or until of an audit query (name is the
// parameter's, for the error): an RFC 3339 time, or a duration (such as
// 1h or 90m) before now.
func ParseAuditTime(name, v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%s: %q is neither an RFC 3339 time (2006-01-02T15:04:05Z) nor a duration before now (such as 1h)", name, v)
	}
	return now.Add(-d), nil
}

// WriteAuditTable prints entries as the table `det audit` and `det-bridge
// audit` show, times in UTC.
func WriteAuditTable(w io.Writer, entries []AuditEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Time\tActor\tAction\tTarget\tSource\tDetail")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339), dash(e.Actor), e.Action, dash(e.Target), dash(e.Source), e.Detail)
	}
	return tw.Flush()
}

// dash shows an empty cell of a table as "-".
func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
