package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/bridge/api"
)

// stubUsers is a bridge that knows alice (id 1, an admin, password
// "old-pw") and bob (id 2), and records the logins and patches it gets.
type stubUsers struct {
	logins  []api.LoginRequest
	patches map[string]api.PatchUser
	logouts int
}

func (st *stubUsers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	users := map[string]api.User{"alice": {ID: 1, Username: "alice", Admin: true, Active: true}, "bob": {ID: 2, Username: "bob", Active: true}}
	switch {
	case r.URL.Path == "/api/v1/auth/login":
		var req api.LoginRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		st.logins = append(st.logins, req)
		if req.Username == "alice" && req.Password != "old-pw" && req.Password != "" {
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(api.NewError(http.StatusUnauthorized, "invalid credentials"))
			return
		}
		_ = json.NewEncoder(w).Encode(api.LoginResponse{Token: "t-" + req.Password, User: users[req.Username]})
	case r.URL.Path == "/api/v1/auth/logout":
		st.logouts++
		_, _ = w.Write([]byte("{}"))
	case r.URL.Path == "/api/v1/me":
		_ = json.NewEncoder(w).Encode(api.UserResponse{User: users["alice"]})
	case strings.HasSuffix(r.URL.Path, "/by-username"):
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/users/"), "/by-username")
		_ = json.NewEncoder(w).Encode(api.UserResponse{User: users[name]})
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/api/v1/users/"):
		var req api.PatchUser
		_ = json.NewDecoder(r.Body).Decode(&req)
		st.patches[r.URL.Path] = req
		_ = json.NewEncoder(w).Encode(api.UserResponse{User: users["alice"]})
	default:
		w.WriteHeader(404)
	}
}

// TestChangePassword: changing one's own password checks the current one
// (read first from a pipe) by logging in with it, then patches the user
// and drops that login; an admin resetting another's checks nothing; a
// wrong current password changes nothing.
func TestChangePassword(t *testing.T) {
	st := &stubUsers{}
	srv := httptest.NewServer(st)
	defer srv.Close()
	t.Setenv("DET_USER", "alice")
	for _, c := range []struct {
		args   []string
		stdin  string
		code   int
		checks []string // the passwords of the logins after DET_USER's
		path   string
		want   string
	}{
		{[]string{"user", "change-password"}, "old-pw\nnew-pw\n", 0, []string{"old-pw"}, "/api/v1/users/1", "new-pw"},
		{[]string{"user", "change-password", "alice"}, "old-pw\nnew-pw\n", 0, []string{"old-pw"}, "/api/v1/users/1", "new-pw"},
		{[]string{"user", "change-password", "bob"}, "bob-pw\n", 0, nil, "/api/v1/users/2", "bob-pw"},
		{[]string{"user", "change-password"}, "wrong\nnew-pw\n", 1, []string{"wrong"}, "", ""},
	} {
		st.logins, st.patches, st.logouts = nil, map[string]api.PatchUser{}, 0
		var out, errOut bytes.Buffer
		code := Execute(context.Background(), append([]string{"-m", srv.URL}, c.args...), IO{In: strings.NewReader(c.stdin), Out: &out, ErrOut: &errOut})
		if code != c.code {
			t.Fatalf("%v: exit %d, want %d: %s", c.args, code, c.code, errOut.String())
		}
		var checks []string
		for _, l := range st.logins[1:] {
			if l.IsHashed || l.Username != "alice" {
				t.Errorf("%v: check login %+v", c.args, l)
			}
			checks = append(checks, l.Password)
		}
		if strings.Join(checks, ",") != strings.Join(c.checks, ",") {
			t.Errorf("%v: checked the passwords %q, want %q", c.args, checks, c.checks)
		}
		if c.path == "" {
			if len(st.patches) != 0 || !strings.Contains(errOut.String(), "current password is wrong") {
				t.Errorf("%v: patched %v; said %q", c.args, st.patches, errOut.String())
			}
			continue
		}
		if p := st.patches[c.path]; len(st.patches) != 1 || p.Password == nil || *p.Password != c.want || p.IsHashed {
			t.Errorf("%v sent %+v, want the password %q to %s", c.args, st.patches, c.want, c.path)
		}
		if st.logouts != len(c.checks) {
			t.Errorf("%v: %d logouts, want %d (the check's login)", c.args, st.logouts, len(c.checks))
		}
	}
}

// TestUserAdminCommands: deactivate and link-with-agent-user patch the
// named user by id.
func TestUserAdminCommands(t *testing.T) {
	st := &stubUsers{patches: map[string]api.PatchUser{}}
	srv := httptest.NewServer(st)
	defer srv.Close()
	t.Setenv("DET_USER", "alice")
	for _, args := range [][]string{{"user", "deactivate", "bob"}, {"user", "link-with-agent-user", "alice", "--agent-user", "alice", "--agent-uid", "2001"}} {
		var out, errOut bytes.Buffer
		if code := Execute(context.Background(), append([]string{"-m", srv.URL}, args...), IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
	}
	if p := st.patches["/api/v1/users/2"]; p.Active == nil || *p.Active {
		t.Errorf("deactivate sent %+v", p)
	}
	if p := st.patches["/api/v1/users/1"].AgentUserGroup; p == nil || p.AgentUser != "alice" || p.AgentUID == nil || *p.AgentUID != 2001 || p.AgentGID != nil {
		t.Errorf("link sent %+v", p)
	}
}

// TestMungePayloadNamesBridge: the munge credential det logs in with names
// the bridge it is for.
func TestMungePayloadNamesBridge(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\nprintf 'MUNGE:%s|' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "munge"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":/usr/bin:/bin")
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{"DET_USER_TOKEN", "DET_USER", "DET_PASS"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	var cred string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/auth/munge":
			var req api.MungeLoginRequest
			_ = json.NewDecoder(r.Body).Decode(&req)
			cred = req.Credential
			_ = json.NewEncoder(w).Encode(api.LoginResponse{Token: "t", User: api.User{Username: "alice"}})
		case "/api/v1/me":
			_ = json.NewEncoder(w).Encode(api.UserResponse{User: api.User{Username: "alice"}})
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	if code := Execute(context.Background(), []string{"-m", srv.URL + "/", "user", "whoami"}, IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if want := "MUNGE:-s|MUNGE:det-bridge login " + srv.URL + "|"; cred != want {
		t.Fatalf("credential %q, want %q", cred, want)
	}
}
