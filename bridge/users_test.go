package bridge

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/det-slurm/bridge/api"
)

// login posts a login and returns the answer.
func (h *harness) login(name, password string, hashed bool) (int, api.LoginResponse, api.Error) {
	h.t.Helper()
	c := *h
	c.token = ""
	w := c.req("POST", "/api/v1/auth/login", api.LoginRequest{Username: name, Password: password, IsHashed: hashed}, nil)
	var lr api.LoginResponse
	var e api.Error
	if w.Code == http.StatusOK {
		_ = json.Unmarshal(w.Body.Bytes(), &lr)
	} else {
		_ = json.Unmarshal(w.Body.Bytes(), &e)
	}
	return w.Code, lr, e
}

// TestLoginForms: a login takes the password itself or Determined's hash
// of it, answers the token and the user, and refuses a wrong one with 401
// "invalid credentials" in Determined's error shape.
func TestLoginForms(t *testing.T) {
	h := newHarness(t)
	admin := h.adminClient()
	pw := "Carol-passw0rd"
	hashed := api.PasswordHash(pw)
	admin.do("POST", "/api/v1/users", api.PostUserRequest{User: api.User{Username: "carol", Active: true}, Password: &hashed, IsHashed: true}, nil, http.StatusOK)
	for _, c := range []struct {
		pw     string
		hashed bool
	}{{pw, false}, {hashed, true}} {
		code, lr, _ := h.login("carol", c.pw, c.hashed)
		if code != http.StatusOK || lr.Token == "" || lr.User.Username != "carol" || lr.User.ID == 0 || !lr.User.Active {
			t.Errorf("login (hashed %t): %d %+v", c.hashed, code, lr)
		}
	}
	code, _, e := h.login("carol", api.PasswordHash("wrong"), true)
	if code != http.StatusUnauthorized || e.Message != "invalid credentials" || e.Code != 16 || e.Error.Code != 401 || e.Error.Reason != "Unauthorized" || e.Error.Error != e.Message || e.Details == nil {
		t.Errorf("a wrong password: %d %+v", code, e)
	}
	if code, _, e := h.login("carol", "not-a-hash", true); code != http.StatusBadRequest || e.Code != 3 {
		t.Errorf("a malformed hash: %d %+v", code, e)
	}
	// Determined's CLI logs in as determined with "" marked hashed.
	if code, _, _ := h.login("determined", "", true); code != http.StatusOK {
		t.Errorf("the empty password, hashed: %d", code)
	}
}

// TestOldSchemePasswordThroughAPI: a row whose hash predates the salted
// scheme refuses a hashed login with a 401 saying to log in once with the
// password; that login works and upgrades the row, after which Determined's
// hashed login works.
func TestOldSchemePasswordThroughAPI(t *testing.T) {
	h := newHarness(t)
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(filepath.Dir(h.root), "db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old, _ := bcrypt.GenerateFromPassword([]byte("Old-passw0rd"), bcrypt.MinCost)
	if _, err := db.Exec("INSERT INTO users(username, password_hash, password_scheme) VALUES('olga', ?, 'plain')", string(old)); err != nil {
		t.Fatal(err)
	}
	code, _, e := h.login("olga", api.PasswordHash("Old-passw0rd"), true)
	if code != http.StatusUnauthorized || !strings.Contains(e.Message, "log in once with the password") || !strings.Contains(e.Message, "det user login") {
		t.Fatalf("hashed login of an old row: %d %q", code, e.Message)
	}
	if code, _, _ := h.login("olga", "Old-passw0rd", false); code != http.StatusOK {
		t.Fatalf("login with the password: %d", code)
	}
	if code, _, _ := h.login("olga", api.PasswordHash("Old-passw0rd"), true); code != http.StatusOK {
		t.Fatalf("hashed login after the upgrade: %d", code)
	}
	var scheme string
	if err := db.QueryRow("SELECT password_scheme FROM users WHERE username='olga'").Scan(&scheme); err != nil || scheme == "plain" {
		t.Fatalf("scheme after the upgrade: %q %v", scheme, err)
	}
}

// TestInfo: GET /info needs no login and answers Determined's master
// description: its API version, the cluster's id (the same each time,
// and on /api/v1/master) and name, lists as lists, and no Slurm status,
// which /api/v1/master has.
func TestInfo(t *testing.T) {
	h := newHarness(t)
	anon := *h
	anon.token = ""
	var raw map[string]any
	anon.do("GET", "/info", nil, &raw, http.StatusOK)
	for _, k := range []string{"version", "masterId", "clusterId", "clusterName", "hasCustomLogo", "strictJobQueueControl", "rbacEnabled", "bridgeVersion"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("/info has no %s: %v", k, raw)
		}
	}
	if fs, ok := raw["featureSwitches"].([]any); !ok || fs == nil {
		t.Errorf("featureSwitches: %v", raw["featureSwitches"])
	}
	var info, master api.Master
	anon.do("GET", "/info", nil, &info, http.StatusOK)
	if info.Version != "0.38.1" || info.ClusterID == "" || info.MasterID == "" || info.ClusterName != "127.0.0.1" || info.RBACEnabled || info.Slurm != nil || info.BridgeVersion != Version {
		t.Errorf("/info: %+v", info)
	}
	if w := anon.req("GET", "/api/v1/master", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("/api/v1/master without a login: %d", w.Code)
	}
	h.do("GET", "/api/v1/master", nil, &master, http.StatusOK)
	if master.Slurm == nil || master.ClusterID != info.ClusterID || master.MasterID != info.MasterID || master.Version != api.DeterminedVersion {
		t.Errorf("/api/v1/master: %+v", master)
	}
	h.srv.cfg.ClusterName = "hpc-a"
	anon.do("GET", "/info", nil, &info, http.StatusOK)
	if info.ClusterName != "hpc-a" {
		t.Errorf("cluster_name from the site config: %q", info.ClusterName)
	}
}

// TestUserRoutesAuthorization: admins create and change users; a user
// reads any user and changes only their own password, without the
// current one, which ends their other sessions; an admin's change of
// another's password ends all of that user's.
func TestUserRoutesAuthorization(t *testing.T) {
	h := newHarness(t)
	admin := h.adminClient()
	det := h.as("determined", "")
	pw := "Carol-passw0rd"
	carol := api.PostUserRequest{User: api.User{Username: "carol", Active: true, DisplayName: "Carol C."}, Password: &pw}
	if w := det.req("POST", "/api/v1/users", carol, nil); w.Code != http.StatusForbidden {
		t.Errorf("a user creates a user: %d", w.Code)
	}
	var created api.UserResponse
	admin.do("POST", "/api/v1/users", carol, &created, http.StatusOK)
	if u := created.User; u.ID == 0 || u.Username != "carol" || u.DisplayName != "Carol C." || u.Admin || !u.Active || u.Remote || u.AgentUserGroup != nil {
		t.Fatalf("created %+v", u)
	}
	if w := admin.req("POST", "/api/v1/users", carol, nil); w.Code != http.StatusConflict || errorOf(w.Body.Bytes()) == "" {
		t.Errorf("a second carol: %d %s", w.Code, w.Body)
	}
	path := fmt.Sprintf("/api/v1/users/%d", created.User.ID)
	var got api.UserResponse
	det.do("GET", "/api/v1/users/carol/by-username", nil, &got, http.StatusOK)
	if got.User != created.User {
		t.Errorf("by username: %+v", got.User)
	}
	det.do("GET", path, nil, &got, http.StatusOK)
	if got.User != created.User {
		t.Errorf("by id: %+v", got.User)
	}
	for _, p := range []string{"/api/v1/users/nobody/by-username", "/api/v1/users/9999"} {
		if w := det.req("GET", p, nil, nil); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d", p, w.Code)
		}
	}

	c1, c2 := h.as("carol", pw), h.as("carol", pw)
	dn, yes := "Mallory", true
	for _, r := range []struct {
		who  *harness
		path string
		body api.PatchUser
	}{
		{c1, path, api.PatchUser{DisplayName: &dn}},
		{c1, path, api.PatchUser{Admin: &yes}},
		{c1, fmt.Sprintf("/api/v1/users/%d", h.userID("determined")), api.PatchUser{Password: &pw}},
		{det, path, api.PatchUser{Password: &pw}},
	} {
		if w := r.who.req("PATCH", r.path, r.body, nil); w.Code != http.StatusForbidden {
			t.Errorf("a user's PATCH %s %+v: %d %s", r.path, r.body, w.Code, w.Body)
		}
	}
	np := api.PasswordHash("New-passw0rd")
	c1.do("PATCH", path, api.PatchUser{Password: &np, IsHashed: true}, nil, http.StatusOK)
	c1.do("GET", "/api/v1/me", nil, nil, http.StatusOK)
	if w := c2.req("GET", "/api/v1/me", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("another session after one's own change: %d", w.Code)
	}
	if code, _, _ := h.login("carol", "New-passw0rd", false); code != http.StatusOK {
		t.Errorf("the new password: %d", code)
	}
	reset := "Reset-passw0rd"
	admin.do("PATCH", path, api.PatchUser{Password: &reset}, nil, http.StatusOK)
	if w := c1.req("GET", "/api/v1/me", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("a session after an admin's reset: %d", w.Code)
	}

	no := false
	me := fmt.Sprintf("/api/v1/users/%d", h.userID("admin"))
	for _, b := range []api.PatchUser{{Active: &no}, {Admin: &no}} {
		if w := admin.req("PATCH", me, b, nil); w.Code != http.StatusBadRequest {
			t.Errorf("an admin locks themselves out with %+v: %d", b, w.Code)
		}
	}
	name, taken := "carol2", "determined"
	if w := admin.req("PATCH", path, api.PatchUser{Username: &taken}, nil); w.Code != http.StatusConflict {
		t.Errorf("rename onto a taken name: %d", w.Code)
	}
	admin.do("PATCH", path, api.PatchUser{Username: &name, DisplayName: &dn, Admin: &yes, AgentUserGroup: &api.AgentUserGroup{AgentUser: "jobuser"}}, &got, http.StatusOK)
	if u := got.User; u.Username != "carol2" || u.DisplayName != dn || !u.Admin || u.AgentUserGroup == nil || u.AgentUserGroup.AgentUser != "jobuser" || u.AgentUserGroup.AgentUID == nil {
		t.Errorf("after an admin's patch: %+v", u)
	}
	if w := det.req("GET", "/api/v1/users/carol/by-username", nil, nil); w.Code != http.StatusNotFound {
		t.Errorf("the old name after a rename: %d", w.Code)
	}
	admin.do("PATCH", path, api.PatchUser{Remote: &yes}, &got, http.StatusOK)
	if code, _, _ := h.login("carol2", reset, false); !got.User.Remote || code != http.StatusUnauthorized {
		t.Errorf("a remote user's password login: %d (%+v)", code, got.User)
	}
	admin.do("PATCH", path, api.PatchUser{Active: &no}, &got, http.StatusOK)
	if got.User.Active {
		t.Error("deactivation did not take")
	}
	if w := admin.req("DELETE", path, nil, nil); w.Code != http.StatusMethodNotAllowed || errorOf(w.Body.Bytes()) == "" {
		t.Errorf("DELETE %s: %d %s", path, w.Code, w.Body)
	}
}

// TestListUsers: Determined's paging, filters and orders.
func TestListUsers(t *testing.T) {
	h := newHarness(t)
	admin := h.adminClient()
	pw := "x"
	for _, n := range []string{"dave", "erin", "frank"} {
		admin.do("POST", "/api/v1/users", api.PostUserRequest{User: api.User{Username: n, Active: n != "frank"}, Password: &pw}, nil, http.StatusOK)
	}
	list := func(q string) api.UsersResponse {
		t.Helper()
		var out api.UsersResponse
		h.do("GET", "/api/v1/users"+q, nil, &out, http.StatusOK)
		return out
	}
	names := func(r api.UsersResponse) string {
		var n []string
		for _, u := range r.Users {
			n = append(n, u.Username)
		}
		return strings.Join(n, ",")
	}
	for q, want := range map[string]string{
		"":                         "admin,dave,determined,erin,frank",
		"?limit=2":                 "admin,dave",
		"?offset=2&limit=2":        "determined,erin",
		"?offset=-1":               "frank",
		"?offset=9":                "",
		"?active=false":            "frank",
		"?active=true&admin=false": "dave,determined,erin",
		"?name=ER":                 "determined,erin",
		"?sortBy=SORT_BY_ADMIN&orderBy=ORDER_BY_DESC": "admin,dave,determined,erin,frank",
		"?orderBy=ORDER_BY_DESC":                      "frank,erin,determined,dave,admin",
	} {
		if got := names(list(q)); got != want {
			t.Errorf("%q: %s, want %s", q, got, want)
		}
	}
	if p := list("?offset=2&limit=2").Pagination; p != (api.Pagination{Offset: 2, Limit: 2, StartIndex: 2, EndIndex: 4, Total: 5}) {
		t.Errorf("pagination %+v", p)
	}
	if r := list("?offset=9"); r.Users == nil || r.Pagination.EndIndex != 5 {
		t.Errorf("past the end: %+v", r)
	}
	for _, q := range []string{"?sortBy=SORT_BY_LAST_AUTH_TIME", "?active=maybe", "?limit=-1", "?orderBy=up"} {
		if w := h.req("GET", "/api/v1/users"+q, nil, nil); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d", q, w.Code)
		}
	}
}

// TestErrorShape: every error answer has Determined's shape, with the
// gRPC code of its HTTP status.
func TestErrorShape(t *testing.T) {
	h := newHarness(t)
	anon := *h
	anon.token = ""
	for _, c := range []struct {
		who          *harness
		method, path string
		status, code int
	}{
		{h, "GET", "/api/v1/no-such-route", 404, 5},
		{&anon, "GET", "/api/v1/me", 401, 16},
		{h, "POST", "/api/v1/users", 403, 7},
		{h, "DELETE", "/api/v1/users/1", 405, 12},
	} {
		w := c.who.req(c.method, c.path, nil, nil)
		var raw map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &raw)
		var e api.Error
		_ = json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != c.status || e.Code != c.code || e.Message == "" || e.Error.Code != c.status || e.Error.Reason != http.StatusText(c.status) || e.Error.Error != e.Message {
			t.Errorf("%s %s: %d %s", c.method, c.path, w.Code, w.Body)
		}
		if d, ok := raw["details"].([]any); !ok || len(d) != 0 {
			t.Errorf("%s %s: details %v, want []", c.method, c.path, raw["details"])
		}
	}
	for status, code := range map[int]int{400: 3, 409: 6, 429: 8, 500: 13, 503: 14} {
		if got := api.GRPCCode(status); got != code {
			t.Errorf("HTTP %d: gRPC %d, want %d", status, got, code)
		}
	}
}
