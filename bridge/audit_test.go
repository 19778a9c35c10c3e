package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/proxy"
)

// auditOf reads the audit trail as the harness's admin, with query q.
func (h *harness) auditOf(q string) []api.AuditEntry {
	h.t.Helper()
	var out api.GetAuditResponse
	h.adminClient().do("GET", "/api/v1/audit?"+q, nil, &out, http.StatusOK)
	return out.Entries
}

// brief shows entries as "actor action target source detail" lines.
func brief(entries []api.AuditEntry) []string {
	out := []string{}
	for _, e := range entries {
		out = append(out, strings.Join([]string{e.Actor, e.Action, e.Target, e.Source, e.Detail}, " "))
	}
	return out
}

// TestAuditAPI: admins read the trail in the API's shape, a page at a
// time; a user gets 403 and a task's token (an admin's too) is refused;
// a bad parameter is refused naming it.
func TestAuditAPI(t *testing.T) {
	h := newHarness(t)
	admin := h.adminClient()
	var empty map[string]any
	admin.do("GET", "/api/v1/audit?action=task.kill", nil, &empty, http.StatusOK)
	if got, _ := json.Marshal(empty); string(got) != `{"entries":[],"pagination":{"endIndex":0,"limit":0,"offset":0,"startIndex":0,"total":0}}` {
		t.Errorf("an empty trail: %s", got)
	}
	for i := 0; i < 3; i++ {
		h.login("mallory", fmt.Sprint("guess-", i), false)
	}
	var raw struct {
		Entries    []map[string]any `json:"entries"`
		Pagination api.Pagination   `json:"pagination"`
	}
	admin.do("GET", "/api/v1/audit?action=login.failed&since=1h&limit=2&offset=1", nil, &raw, http.StatusOK)
	if raw.Pagination != (api.Pagination{Offset: 1, Limit: 2, StartIndex: 1, EndIndex: 3, Total: 3}) || len(raw.Entries) != 2 {
		t.Fatalf("page: %+v, %d entries", raw.Pagination, len(raw.Entries))
	}
	e := raw.Entries[0]
	for _, k := range []string{"time", "actor", "action", "target", "source", "detail"} {
		if _, ok := e[k]; !ok || len(e) != 6 {
			t.Errorf("entry %v lacks %q (or has more)", e, k)
		}
	}
	if ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(e["time"])); err != nil || !strings.HasSuffix(fmt.Sprint(e["time"]), "Z") || time.Since(ts) > time.Minute {
		t.Errorf("time %v: not a recent RFC 3339 time in UTC (%v)", e["time"], err)
	}
	if got := h.auditOf("action=login.failed&offset=-1"); len(got) != 1 || got[0].Detail != "password: invalid credentials" {
		t.Errorf("the last entry: %v", brief(got))
	}
	if got := h.auditOf("action=login.failed&until=1h"); len(got) != 0 {
		t.Errorf("until an hour ago: %v", brief(got))
	}
	future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	if got := h.auditOf("actor=mallory&since=2h&until=" + future); len(got) != 3 {
		t.Errorf("mallory's entries: %v", brief(got))
	}
	if got := h.auditOf("action=login*&actor=mallory"); len(got) != 3 {
		t.Errorf("every kind of login of mallory's: %v", brief(got))
	}

	for q, want := range map[string]string{
		"since=yesterday":          "since: \"yesterday\" is neither an RFC 3339 time",
		"until=-1h":                "until: \"-1h\" is neither",
		"since=1h&until=2h":        "until: ",
		"action=logon":             "action: \"logon\" is not an action of the audit trail (login, login.failed",
		"action=task.killed":       "action: \"task.killed\"",
		"limit=-1":                 "limit: -1 is negative",
		"offset=x":                 "offset: \"x\" is not an integer",
		"since=2030-01-01T00:00:0": "since: ",
	} {
		w := admin.req("GET", "/api/v1/audit?"+q, nil, nil)
		var ae api.Error
		_ = json.Unmarshal(w.Body.Bytes(), &ae)
		if w.Code != http.StatusBadRequest || !strings.HasPrefix(ae.Message, want) || ae.Error.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400 %q", q, w.Code, w.Body, want)
		}
	}

	w := h.req("GET", "/api/v1/audit", nil, nil) // determined is not an admin
	var ae api.Error
	_ = json.Unmarshal(w.Body.Bytes(), &ae)
	if w.Code != http.StatusForbidden || ae.Code != 7 || ae.Message != "only an admin may do this" {
		t.Errorf("a user: %d %s", w.Code, w.Body)
	}
	adminID := h.userID("admin")
	tok, err := h.srv.store.NewToken(context.Background(), adminID, h.start(nil).ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	task := *h
	task.token = tok
	if w := task.req("GET", "/api/v1/audit", nil, nil); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "DET_USER_TOKEN") {
		t.Errorf("an admin's task token: %d %s", w.Code, w.Body)
	}
	anon := *h
	anon.token = ""
	if w := anon.req("GET", "/api/v1/audit", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("no login: %d", w.Code)
	}
	if w := admin.req("POST", "/api/v1/audit", nil, nil); w.Code != http.StatusMethodNotAllowed || errorOf(w.Body.Bytes()) == "" {
		t.Errorf("POST: %d %s", w.Code, w.Body)
	}
}

// TestAuditLogins: a login, a failed one (under the name tried, from the
// client's address, never with the password) and the rate limit's
// refusals, recorded once a minute.
func TestAuditLogins(t *testing.T) {
	h := newHarness(t)
	h.login("determined", "", false)
	h.login("alice", "Secret-guess-1", false)
	r := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"username":"admin","password":"Secret-guess-2"}`))
	r.RemoteAddr = "203.0.113.9:40000"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	h.h.ServeHTTP(httptest.NewRecorder(), r)
	got := brief(h.auditOf("action=login*&since=1m"))
	want := []string{
		"determined login  192.0.2.1 password", // newHarness's own login, then this one
		"determined login  192.0.2.1 password",
		"alice login.failed  192.0.2.1 password: invalid credentials",
		"admin login.failed  203.0.113.9 password: invalid credentials",
		"admin login  192.0.2.1 password", // auditOf's
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if all := strings.Join(got, " "); strings.Contains(all, "Secret-guess") || strings.Contains(all, "198.51.100.1") {
		t.Errorf("the trail holds a password or a forwarded address: %s", all)
	}

	for i := 0; i < 12; i++ {
		h.login("bob", "wrong", false)
	}
	refused := h.auditOf("action=login.refused")
	if len(refused) != 1 || refused[0].Actor != "bob" || refused[0].Source != "192.0.2.1" || !strings.Contains(refused[0].Detail, "for this user name") {
		t.Fatalf("refusals: %v", brief(refused))
	}
	if n := len(h.auditOf("action=login.failed&actor=bob")); n != maxUserFailures {
		t.Errorf("%d failures of bob recorded, want %d", n, maxUserFailures)
	}
	h.srv.refusals.now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	h.login("bob", "wrong", false)
	if n := len(h.auditOf("action=login.refused")); n != 2 {
		t.Errorf("a refusal a minute later: %d entries, want 2", n)
	}
}

// TestAuditMungeLogins: a munge login and its failures, with the POSIX
// user in the detail; refusals the rate limit does not count are recorded
// once a minute.
func TestAuditMungeLogins(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.srv.store.CreateUser(ctx, "carol", store.Plain(""), false); err != nil {
		t.Fatal(err)
	}
	h.srv.store.LinkAgent(ctx, "carol", "carol", 3001, "", 3001)
	aud := api.MungePayload(h.srv.cfg.ExternalURL)
	anon := *h
	anon.token = ""
	for _, out := range [][]byte{unmungeOut("carol", 3001, 0, aud), unmungeOut("carol", 3001, 0, ""), unmungeOut("erin", 3003, 0, aud), unmungeOut("erin", 3003, 0, aud)} {
		anon.mungeAs(out)
		anon.req("POST", "/api/v1/auth/munge", api.MungeLoginRequest{Credential: "MUNGE:x"}, nil)
	}
	got := brief(h.auditOf("action=login*&since=1m&offset=1&limit=3"))
	want := []string{
		"carol login  192.0.2.1 munge: POSIX user carol (uid 3001)",
		" login.failed  192.0.2.1 munge: POSIX user carol (uid 3001): the munge credential names no service",
		" login.failed  192.0.2.1 munge: POSIX user erin (uid 3003): no bridge user is linked",
	}
	for i := range want {
		if i >= len(got) || !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("entries:\n%s\nwant (prefixes):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if n := len(h.auditOf("action=login.failed&since=1m")); n != 2 {
		t.Errorf("%d failures recorded, want 2 (erin's second within the minute is not)", n)
	}
}

// TestAuditUserChanges: creating and changing users names the fields,
// never a password.
func TestAuditUserChanges(t *testing.T) {
	h := newHarness(t)
	admin := h.adminClient()
	pw := "Carol-passw0rd"
	admin.do("POST", "/api/v1/users", api.PostUserRequest{User: api.User{Username: "carol", Admin: true, Active: true, DisplayName: "Carol"}, Password: &pw}, nil, http.StatusOK)
	id := h.userID("carol")
	newPW, name, off := "Other-passw0rd", "Carol C.", false
	admin.do("PATCH", fmt.Sprintf("/api/v1/users/%d", id), api.PatchUser{Password: &newPW, DisplayName: &name, Active: &off}, nil, http.StatusOK)
	h.do("PATCH", fmt.Sprintf("/api/v1/users/%d", h.userID("determined")), api.PatchUser{Password: &newPW}, nil, http.StatusOK)
	got := brief(h.auditOf("action=user.*"))
	want := []string{
		"admin user.create carol 192.0.2.1 password, displayName, admin",
		"admin user.update carol 192.0.2.1 password, displayName, active",
		"determined user.update determined 192.0.2.1 password",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if all := strings.Join(got, " "); strings.Contains(all, "passw0rd") {
		t.Errorf("a password in the trail: %s", all)
	}
	if w := h.req("PATCH", fmt.Sprintf("/api/v1/users/%d", id), api.PatchUser{DisplayName: &name}, nil); w.Code != http.StatusForbidden {
		t.Fatalf("a user changes another: %d", w.Code)
	}
	if n := len(h.auditOf("action=user.update")); n != 2 {
		t.Errorf("a refused change was recorded: %d entries", n)
	}
}

// TestAuditTasks: starts, kills (an admin's of another's task names the
// owner) and the idle reaper's cancellations, by task id with kind and
// pool.
func TestAuditTasks(t *testing.T) {
	h := newHarness(t)
	nb := h.start(map[string]any{"idle_timeout": "10m"})
	cpu := h.start(map[string]any{"resources": map[string]any{"resource_pool": "cpu", "slots": 0}})
	h.do("POST", "/api/v1/notebooks/"+cpu.ID+"/kill", nil, nil, http.StatusOK)
	h.do("POST", "/api/v1/notebooks/"+cpu.ID+"/kill", nil, nil, http.StatusOK) // already ending: not again
	third := h.start(nil)
	h.adminClient().do("POST", "/api/v1/notebooks/"+third.ID+"/kill", nil, nil, http.StatusOK)
	ctx := context.Background()
	if err := h.srv.store.UpdateTask(ctx, nb.ID, store.Update{State: api.StateRunning}, "running"); err != nil {
		t.Fatal(err)
	}
	h.srv.reap(ctx, time.Now().Add(24*time.Hour))
	got := brief(h.auditOf("action=task.*"))
	want := []string{
		"determined task.start " + nb.ID + " 192.0.2.1 notebook, pool gpu",
		"determined task.start " + cpu.ID + " 192.0.2.1 notebook, pool cpu",
		"determined task.kill " + cpu.ID + " 192.0.2.1 notebook, pool cpu",
		"determined task.start " + third.ID + " 192.0.2.1 notebook, pool gpu",
		"admin task.kill " + third.ID + " 192.0.2.1 notebook, pool gpu, owner determined",
		" task.cancel " + nb.ID + "  notebook, pool gpu: idle for more than 10m",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAuditAdminProxyAccess: an admin opening another user's notebook
// through the proxy is recorded once per admin and task within ten
// minutes, on the bridge's origin and on the notebook's own; the owner's
// requests are not recorded.
func TestAuditAdminProxyAccess(t *testing.T) {
	h := newHarness(t)
	nb := h.start(nil)
	task, _ := h.srv.store.GetTask(context.Background(), nb.ID)
	var seen []string
	h.srv.Routes().Set(nb.ID, proxy.Route{Target: hostileServer(t, task.JupyterToken, &seen), Token: task.JupyterToken, Owner: "determined", State: api.StateRunning})
	admin := h.adminClient()
	path := "/proxy/" + nb.ID + "/lab"
	bearer := map[string]string{"Authorization": "Bearer " + admin.token}
	for i := 0; i < 5; i++ {
		if w := h.raw("GET", "127.0.0.1:8080", path, bearer); w.Code != http.StatusOK {
			t.Fatalf("an admin's bearer token: %d", w.Code)
		}
		if w := h.raw("GET", "127.0.0.1:8080", path, map[string]string{"Authorization": "Bearer " + h.token}); w.Code != http.StatusOK {
			t.Fatalf("the owner: %d", w.Code)
		}
	}
	if w := h.raw("GET", "127.0.0.1:8080", path, map[string]string{"Cookie": CookieName + "=" + admin.token}); w.Code != http.StatusForbidden {
		t.Fatalf("an admin's browser in path mode: %d", w.Code)
	}
	got := h.auditOf("action=proxy.admin_access")
	if len(got) != 1 || got[0].Actor != "admin" || got[0].Target != nb.ID || got[0].Detail != "determined" || got[0].Source != "192.0.2.1" {
		t.Fatalf("entries: %v", brief(got))
	}
	h.srv.adminAccess.now = func() time.Time { return time.Now().Add(9 * time.Minute) }
	h.raw("GET", "127.0.0.1:8080", path, bearer)
	if n := len(h.auditOf("action=proxy.admin_access")); n != 1 {
		t.Errorf("within ten minutes: %d entries", n)
	}
	h.srv.adminAccess.now = func() time.Time { return time.Now().Add(11 * time.Minute) }
	h.raw("GET", "127.0.0.1:8080", path, bearer)
	if n := len(h.auditOf("action=proxy.admin_access")); n != 2 {
		t.Errorf("after ten minutes: %d entries, want 2", n)
	}
}

// TestAuditAdminNotebookOrigin: an admin's browser handed off to a
// user's notebook origin is recorded there, once.
func TestAuditAdminNotebookOrigin(t *testing.T) {
	h := newHarnessWith(t, "external_url: http://127.0.0.1:8080\nnotebook_origin: http://{id}.nb.localhost:8080\n")
	nb := h.start(nil)
	task, _ := h.srv.store.GetTask(context.Background(), nb.ID)
	var seen []string
	h.srv.Routes().Set(nb.ID, proxy.Route{Target: hostileServer(t, task.JupyterToken, &seen), Token: task.JupyterToken, Owner: "determined", State: api.StateRunning})
	admin := h.adminClient()
	w := h.raw("GET", "127.0.0.1:8080", "/proxy/"+nb.ID+"/lab", map[string]string{"Cookie": CookieName + "=" + admin.token})
	loc, _ := url.Parse(w.Header().Get("Location"))
	nbHost := nb.ID + ".nb.localhost:8080"
	nbCookie := cookieOf(h.raw("GET", nbHost, loc.RequestURI(), nil), NotebookCookie)
	for i := 0; i < 3; i++ {
		if w := h.raw("GET", nbHost, "/proxy/"+nb.ID+"/lab", map[string]string{"Cookie": NotebookCookie + "=" + nbCookie}); w.Code != http.StatusOK {
			t.Fatalf("the admin on the notebook's origin: %d %s", w.Code, w.Body)
		}
	}
	if got := h.auditOf("action=proxy.admin_access"); len(got) != 1 || got[0].Actor != "admin" || got[0].Target != nb.ID || got[0].Detail != "determined" {
		t.Fatalf("entries: %v", brief(got))
	}
}

// failingAudit is a store whose audit trail cannot be written.
type failingAudit struct{ Store }

func (failingAudit) AddAudit(context.Context, store.Audit) error {
	return errors.New("database is locked")
}

// TestAuditWriteFails: a write that fails is logged, and what it records
// goes on.
func TestAuditWriteFails(t *testing.T) {
	h := newHarness(t)
	var logs bytes.Buffer
	h.srv.log = slog.New(slog.NewTextHandler(&logs, nil))
	h.srv.store = failingAudit{Store: h.srv.store}
	if code, lr, _ := h.login("admin", "", false); code != http.StatusOK || lr.Token == "" {
		t.Fatalf("login: %d", code)
	}
	nb := h.start(nil)
	h.do("POST", "/api/v1/notebooks/"+nb.ID+"/kill", nil, nil, http.StatusOK)
	if n := strings.Count(logs.String(), "record an audit entry"); n != 3 || !strings.Contains(logs.String(), "database is locked") {
		t.Errorf("%d failures logged:\n%s", n, logs.String())
	}
}

// TestAuditPruned: entries past audit_retention go at start.
func TestAuditPruned(t *testing.T) {
	h := newHarnessWith(t, "audit_retention: 30d\n")
	ctx := context.Background()
	for _, days := range []int{31, 29} {
		if err := h.srv.store.AddAudit(ctx, store.Audit{Time: time.Now().AddDate(0, 0, -days), Action: api.AuditTaskStart, Target: fmt.Sprint(days)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := h.auditOf("action=task.start"); len(got) != 1 || got[0].Target != "29" {
		t.Errorf("left: %v", brief(got))
	}
}

// TestAuditText: an entry's text is printable and bounded.
func TestAuditText(t *testing.T) {
	for in, want := range map[string]string{
		"alice":                   "alice",
		"a\x1b]0;pwned\x07b":      "a\uFFFD]0;pwned\uFFFDb",
		"tab\there\nnew":          "tab\uFFFDhere\uFFFDnew",
		"bad\xffbyte":             "bad\uFFFDbyte",
		strings.Repeat("é", 100):  strings.Repeat("é", 62) + "…",
		strings.Repeat("x", 128):  strings.Repeat("x", 128),
		strings.Repeat("x", 1000): strings.Repeat("x", 125) + "…",
	} {
		if got := auditText(in, 128); got != want || len(got) > 128 {
			t.Errorf("auditText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAuditOnceBounded: the memory of recent entries stays bounded under
// a flood of keys, and forgets only what it must.
func TestAuditOnceBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	o := newOnceEvery(time.Minute)
	o.now = func() time.Time { return now }
	if !o.first("a") || o.first("a") {
		t.Fatal("a key is first once within the window")
	}
	for i := 0; i < 3*maxOnceKeys; i++ {
		o.first(fmt.Sprint("flood", i))
	}
	if n := o.size(); n > maxOnceKeys {
		t.Errorf("%d keys held, at most %d", n, maxOnceKeys)
	}
	now = now.Add(2 * time.Minute)
	o.first("b")
	if n := o.size(); n > maxOnceKeys {
		t.Errorf("%d keys held", n)
	}
	if !o.first("a") {
		t.Error("a key is first again after the window")
	}
}
