package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/bridge/api"
)

// stubAudit is a bridge whose audit trail holds three entries, served two
// a page, to admin only; it records the queries it gets.
func stubAudit(t *testing.T, queries *[]url.Values) *httptest.Server {
	t.Helper()
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	all := []api.AuditEntry{
		{Time: at, Actor: "alice", Action: api.AuditLoginFailed, Source: "10.0.0.5", Detail: "password: invalid credentials"},
		{Time: at.Add(time.Minute), Actor: "admin", Action: api.AuditProxyAdminAccess, Target: "5b2a9ea4", Source: "10.0.0.9", Detail: "alice"},
		{Time: at.Add(2 * time.Minute), Action: api.AuditTaskCancel, Target: "5b2a9ea4", Detail: "notebook, pool gpu: idle for more than 30m"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/auth/login":
			var req api.LoginRequest
			_ = json.NewDecoder(r.Body).Decode(&req)
			_ = json.NewEncoder(w).Encode(api.LoginResponse{Token: req.Username})
		case "/api/v1/audit":
			if r.Header.Get("Authorization") != "Bearer admin" {
				w.WriteHeader(http.StatusForbidden)
				_ = json.NewEncoder(w).Encode(api.NewError(http.StatusForbidden, "only an admin may do this"))
				return
			}
			q := r.URL.Query()
			*queries = append(*queries, q)
			offset, _ := strconv.Atoi(q.Get("offset"))
			end := min(offset+2, len(all))
			_ = json.NewEncoder(w).Encode(api.GetAuditResponse{Entries: all[offset:end], Pagination: api.Pagination{Offset: offset, Limit: 2, StartIndex: offset, EndIndex: end, Total: len(all)}})
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestAuditCommand: det audit sends its filters, reads every page and
// prints a table (or JSON); a user who is not an admin gets the bridge's
// refusal.
func TestAuditCommand(t *testing.T) {
	var queries []url.Values
	srv := stubAudit(t, &queries)
	t.Setenv("DET_USER", "admin")
	out, err := runClusterCLI(t, srv, "audit", "--since", "1h", "--actor", "alice", "--action", "login*")
	if err != nil {
		t.Fatal(err)
	}
	if len(queries) != 2 || queries[0].Get("since") != "1h" || queries[0].Get("actor") != "alice" || queries[0].Get("action") != "login*" || queries[1].Get("offset") != "2" || queries[0].Has("until") {
		t.Errorf("queries %v", queries)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "Time Actor Action Target Source Detail" {
		t.Fatalf("table:\n%s", out)
	}
	for i, want := range []string{
		"2030-01-02T03:04:05Z alice login.failed - 10.0.0.5 password: invalid credentials",
		"2030-01-02T03:05:05Z admin proxy.admin_access 5b2a9ea4 10.0.0.9 alice",
		"2030-01-02T03:06:05Z - task.cancel 5b2a9ea4 - notebook, pool gpu: idle for more than 30m",
	} {
		if got := strings.Join(strings.Fields(lines[i+1]), " "); got != want {
			t.Errorf("line %d: %q, want %q", i+1, got, want)
		}
	}

	queries = nil
	out, err = runClusterCLI(t, srv, "audit", "--json")
	var entries []api.AuditEntry
	if err != nil || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 3 || entries[1].Action != api.AuditProxyAdminAccess {
		t.Errorf("--json: %v\n%s", err, out)
	}
	if len(queries) == 0 || queries[0].Get("since") != "24h" {
		t.Errorf("the default since: %v", queries)
	}

	t.Setenv("DET_USER", "bob")
	if _, err := runClusterCLI(t, srv, "audit"); err == nil || !strings.Contains(err.Error(), "only an admin may do this") {
		t.Errorf("a user: %v", err)
	}
}
