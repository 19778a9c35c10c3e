package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/slurm"
)

// fakeAccounts makes the harness's bridge see these POSIX accounts (name:
// uid) instead of the host's.
func (h *harness) fakeAccounts(accounts map[string]int) {
	h.srv.lookupPosix = func(name string) (*user.User, error) {
		uid, ok := accounts[name]
		if !ok {
			return nil, user.UnknownUserError(name)
		}
		return &user.User{Username: name, Uid: strconv.Itoa(uid), Gid: strconv.Itoa(uid)}, nil
	}
}

// as logs in a new client of the harness (a copy sharing its server).
func (h *harness) as(name, password string) *harness {
	h.t.Helper()
	c := *h
	c.token = ""
	var lr api.LoginResponse
	c.do("POST", "/api/v1/auth/login", api.LoginRequest{Username: name, Password: password}, &lr, http.StatusOK)
	c.token = lr.Token
	return &c
}

func (h *harness) adminClient() *harness { return h.as("admin", "") }

func errorOf(body []byte) string {
	var e api.Error
	_ = json.Unmarshal(body, &e)
	return e.Message
}

// link patches user id's agentUserGroup to POSIX user posix.
func (h *harness) link(id int64, posix string) *httptest.ResponseRecorder {
	return h.req("PATCH", fmt.Sprintf("/api/v1/users/%d", id), api.PatchUser{AgentUserGroup: &api.AgentUserGroup{AgentUser: posix}}, nil)
}

// userID is the id of user name.
func (h *harness) userID(name string) int64 {
	h.t.Helper()
	u, err := h.srv.store.UserByName(context.Background(), name)
	if err != nil {
		h.t.Fatal(err)
	}
	return u.ID
}

// TestLinkRefusesSystemAccounts: root, accounts below min_uid, and the
// slurm and munge accounts (by name or uid) cannot be linked; the message
// names the account and the rule.
func TestLinkRefusesSystemAccounts(t *testing.T) {
	h := newHarness(t)
	h.fakeAccounts(map[string]int{"root": 0, "daemon": 1, "munge": 103, "slurm": 64030, "slurm2": 64030, "mungealias": 103, "carol": 3001, "nobody": 65534})
	admin := h.adminClient()
	det := h.userID("determined")
	for name, want := range map[string]string{
		"root":       "root (uid 0)",
		"daemon":     "uid 1, below the site's min_uid 1000",
		"munge":      "munge daemon's account",
		"slurm":      "slurm daemon's account",
		"slurm2":     "uid 64030, the uid of the slurm daemon's account",
		"mungealias": "uid 103, the uid of the munge daemon's account",
		"nobody":     "the nobody account that NFS maps root to",
	} {
		w := admin.link(det, name)
		if msg := errorOf(w.Body.Bytes()); w.Code != http.StatusBadRequest || !strings.Contains(msg, "POSIX user "+name) || !strings.Contains(msg, want) {
			t.Errorf("link to %s: %d %q, want 400 with %q", name, w.Code, msg, want)
		}
	}
	if w := admin.link(det, "carol"); w.Code != http.StatusOK {
		t.Fatalf("link to carol: %d %s", w.Code, w.Body)
	}

	h.srv.cfg.MinUID = 5000
	w := admin.link(det, "carol")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "min_uid 5000") {
		t.Errorf("a site's higher min_uid: %d %s", w.Code, w.Body)
	}
}

// TestSubmitRefusesSystemAccount: a link made before the rule (straight in
// the store) does not launch either.
func TestSubmitRefusesSystemAccount(t *testing.T) {
	h := newHarness(t)
	if err := h.srv.store.LinkAgent(context.Background(), "determined", "daemon", -1, "", -1); err != nil {
		t.Fatal(err)
	}
	w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{}, nil)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "below the site's min_uid") {
		t.Fatalf("submit as daemon: %d %s", w.Code, w.Body)
	}
}

// unmungeOut is unmunge's output for a credential of user (uid) made age
// ago with payload.
func unmungeOut(user string, uid int, age time.Duration, payload string) []byte {
	now := time.Now()
	enc := now.Add(-age)
	return fmt.Appendf(nil, "STATUS:          Success (0)\nENCODE_HOST:     localhost (127.0.0.1)\nENCODE_TIME:     %s (%d)\nDECODE_TIME:     %s (%d)\nTTL:             300\nCIPHER:          aes128 (4)\nMAC:             sha256 (5)\nZIP:             none (0)\nUID:             %s (%d)\nGID:             %s (%d)\nLENGTH:          %d\n\n%s",
		enc.Format("2006-01-02 15:04:05 -0700"), enc.Unix(), now.Format("2006-01-02 15:04:05 -0700"), now.Unix(), user, uid, user, uid, len(payload), payload)
}

// mungeAs makes the harness's unmunge decode every credential as out.
func (h *harness) mungeAs(out []byte) {
	h.srv.decodeMunge = func(context.Context, string) ([]byte, error) { return out, nil }
}

func TestParseUnmunge(t *testing.T) {
	data, err := os.ReadFile("testdata/unmunge-payload.txt")
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseUnmunge(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.user != "alice" || c.uid != 2001 || c.payload != "det-bridge login http://127.0.0.1:8080" || c.encoded.Unix() != 1795931760 || c.decoded.Unix() != 1795931760 {
		t.Errorf("parsed %+v", c)
	}
	data, _ = os.ReadFile("testdata/unmunge-empty.txt")
	if c, err := parseUnmunge(data); err != nil || c.payload != "" || c.user != "bob" || c.uid != 2002 {
		t.Errorf("munge -n: %+v %v", c, err)
	}
	data, _ = os.ReadFile("testdata/unmunge-replayed.txt")
	if _, err := parseUnmunge(data); err == nil || !strings.Contains(err.Error(), "Replayed credential") {
		t.Errorf("replayed: %v", err)
	}
	// A payload that poses as a field does not change the UID.
	forged := unmungeOut("alice", 2001, 0, "x\nUID:             root (0)\n")
	if c, err := parseUnmunge(forged); err != nil || c.uid != 2001 {
		t.Errorf("payload posing as a field: %+v %v", c, err)
	}
	if _, err := parseUnmunge([]byte("STATUS: Success (0)\nUID: alice (2001)\n")); err == nil {
		t.Error("output without a payload section parsed")
	}
}

// TestMungeLogin: a credential logs in only when it is fresh, names this
// bridge, comes from a person's account and that account is linked to one
// bridge user.
func TestMungeLogin(t *testing.T) {
	h := newHarness(t)
	h.fakeAccounts(map[string]int{"munge": 103, "slurm": 64030})
	ctx := context.Background()
	st := h.srv.store
	for _, n := range []string{"carol", "dave", "dave2"} {
		if _, err := st.CreateUser(ctx, n, store.Plain(""), false); err != nil {
			t.Fatal(err)
		}
	}
	st.LinkAgent(ctx, "carol", "carol", 3001, "", 3001)
	st.LinkAgent(ctx, "dave", "dave", 3002, "", 3002)
	st.LinkAgent(ctx, "dave2", "dave", 3002, "", 3002)
	aud := api.MungePayload(h.srv.cfg.ExternalURL)
	anon := *h
	anon.token = ""
	cases := []struct {
		name string
		out  []byte
		code int
		want string
	}{
		{"fresh, for this bridge", unmungeOut("carol", 3001, time.Second, aud), 200, ""},
		{"munge -n", unmungeOut("carol", 3001, time.Second, ""), 401, "munge -n"},
		{"for another service", unmungeOut("carol", 3001, time.Second, "slurmrestd"), 401, "meant for \"slurmrestd\""},
		{"for another bridge", unmungeOut("carol", 3001, time.Second, api.MungePayload("http://other:8080")), 401, "not for this bridge"},
		{"two minutes old", unmungeOut("carol", 3001, 2*time.Minute, aud), 401, "at most 1m0s old"},
		{"from the future", unmungeOut("carol", 3001, -time.Minute, aud), 401, "at most 1m0s old"},
		{"linked twice", unmungeOut("dave", 3002, 0, aud), 403, "linked to several bridge users (dave, dave2)"},
		{"root", unmungeOut("root", 0, 0, aud), 403, "root (uid 0)"},
		{"system account", unmungeOut("daemon", 1, 0, aud), 403, "below the site's min_uid"},
		{"the munge account", unmungeOut("munge", 103, 0, aud), 403, "munge daemon's account"},
		{"not linked", unmungeOut("erin", 3003, 0, aud), 403, "no bridge user is linked to POSIX user erin"},
	}
	for _, c := range cases {
		anon.mungeAs(c.out)
		w := anon.req("POST", "/api/v1/auth/munge", api.MungeLoginRequest{Credential: "MUNGE:x"}, nil)
		if w.Code != c.code || !strings.Contains(errorOf(w.Body.Bytes()), c.want) {
			t.Errorf("%s: %d %s, want %d %q", c.name, w.Code, w.Body, c.code, c.want)
		}
		if c.code == 200 {
			var lr api.LoginResponse
			_ = json.Unmarshal(w.Body.Bytes(), &lr)
			anon.token = lr.Token
			var me api.UserResponse
			anon.do("GET", "/api/v1/me", nil, &me, 200)
			if me.User.Username != "carol" || lr.User.Username != "carol" || lr.User.ID != me.User.ID {
				t.Errorf("logged in as %+v; the login answered %+v", me.User, lr.User)
			}
			anon.token = ""
		}
	}
	// The callback URL names this bridge too.
	h.srv.limiter.succeeded(mungeUIDKey(3001)) // carol's refused credentials above
	h.srv.cfg.CallbackURL = "http://login01:8080"
	anon.mungeAs(unmungeOut("carol", 3001, 0, api.MungePayload("http://login01:8080/")))
	if w := anon.req("POST", "/api/v1/auth/munge", api.MungeLoginRequest{Credential: "MUNGE:x"}, nil); w.Code != 200 {
		t.Errorf("credential for the callback URL: %d %s", w.Code, w.Body)
	}
}

// TestMungeLimiterPerUser: one user's refused credentials lock out that
// user's munge logins, not another's.
func TestMungeLimiterPerUser(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for n, uid := range map[string]int{"carol": 3001, "dave": 3002} {
		h.srv.store.CreateUser(ctx, n, store.Plain(""), false)
		h.srv.store.LinkAgent(ctx, n, n, uid, "", uid)
	}
	aud := api.MungePayload(h.srv.cfg.ExternalURL)
	h.token = ""
	login := func(user string, uid int, payload string) int {
		h.mungeAs(unmungeOut(user, uid, 0, payload))
		return h.req("POST", "/api/v1/auth/munge", api.MungeLoginRequest{Credential: "MUNGE:x"}, nil).Code
	}
	for i := 0; i < 10; i++ {
		login("carol", 3001, "")
	}
	if code := login("carol", 3001, aud); code != http.StatusTooManyRequests {
		t.Errorf("carol after ten refused credentials: %d, want 429", code)
	}
	if code := login("dave", 3002, aud); code != http.StatusOK {
		t.Errorf("dave after carol's failures: %d, want 200", code)
	}
	if w := h.req("POST", "/api/v1/auth/login", api.LoginRequest{Username: "dave", Password: ""}, nil); w.Code != http.StatusOK {
		t.Errorf("a password login after carol's munge failures: %d", w.Code)
	}
}

// TestLimiterForgets: records are removed once forgotten, so the map
// shrinks back; a flood of names stays bounded.
func TestLimiterForgets(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := &loginLimiter{now: func() time.Time { return now }}
	r, _ := http.NewRequest("POST", "/", nil)
	r.RemoteAddr = "10.0.0.1:5000"
	for i := 0; i < 1000; i++ {
		l.failed(passwordKeys(r, fmt.Sprint("user", i))...)
	}
	if n := l.size(); n != 1001 {
		t.Fatalf("%d records, want 1001", n)
	}
	now = now.Add(forgetAfter + 2*time.Minute)
	l.failed(mungeUIDKey(3001))
	if n := l.size(); n != 1 {
		t.Fatalf("%d records after they were forgotten, want 1", n)
	}
	for i := 0; i < maxLimiterEntries+500; i++ {
		l.failed(limitKey{fmt.Sprint("user:flood", i), maxUserFailures})
	}
	if n := l.size(); n > maxLimiterEntries {
		t.Fatalf("%d records, more than %d", n, maxLimiterEntries)
	}
}

// TestTaskTokenScope: the token a job gets works for the API but cannot
// manage users, passwords or tokens, and dies with its task.
func TestTaskTokenScope(t *testing.T) {
	h := newHarness(t)
	nb := h.start(nil)
	var spec jobspec.Spec
	data, err := os.ReadFile(filepath.Join(h.root, "jobuser", nb.ID, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &spec); err != nil || spec.UserToken == "" {
		t.Fatalf("task.json: %v %q", err, spec.UserToken)
	}
	task := *h
	task.token = spec.UserToken
	task.do("GET", "/api/v1/me", nil, nil, http.StatusOK)
	task.do("GET", "/api/v1/notebooks", nil, nil, http.StatusOK)
	pw := "x"
	id := fmt.Sprintf("/api/v1/users/%d", h.userID("determined"))
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/users", api.PostUserRequest{User: api.User{Username: "mallory", Active: true}, Password: &pw}},
		{"PATCH", id, api.PatchUser{Password: &pw}},
		{"PATCH", id, api.PatchUser{AgentUserGroup: &api.AgentUserGroup{AgentUser: "jobuser"}}},
	} {
		w := task.req(r.method, r.path, r.body, nil)
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "DET_USER_TOKEN") {
			t.Errorf("%s %s with a task token: %d %s", r.method, r.path, w.Code, w.Body)
		}
	}
	task.do("GET", id, nil, nil, http.StatusOK)
	task.do("GET", "/api/v1/users/determined/by-username", nil, nil, http.StatusOK)
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "COMPLETED"}
	h.srv.reconcile(context.Background())
	if w := task.req("GET", "/api/v1/me", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("the token of an ended task: %d", w.Code)
	}
}

// TestSecureCookie: the session cookie is Secure when the bridge's
// external URL is https, and not on plain http (a dev cluster).
func TestSecureCookie(t *testing.T) {
	h := newHarness(t)
	h.token = ""
	for url, secure := range map[string]bool{"http://127.0.0.1:8080": false, "https://notebooks.example.edu": true} {
		h.srv.cfg.ExternalURL = url
		w := h.req("POST", "/api/v1/auth/login", api.LoginRequest{Username: "determined"}, nil)
		cookies := (&http.Response{Header: w.Header()}).Cookies()
		if len(cookies) != 1 || cookies[0].Secure != secure || !cookies[0].HttpOnly {
			t.Errorf("%s: cookies %+v, want Secure=%t", url, cookies, secure)
		}
	}
}
