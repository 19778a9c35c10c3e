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

// TestChangePassword: changing one's own password sends the current one
// (read first from a pipe); an admin resetting another's sends none.
func TestChangePassword(t *testing.T) {
	var got map[string]api.PasswordRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v1/auth/login":
			_ = json.NewEncoder(w).Encode(api.LoginResponse{Token: "t"})
		case r.URL.Path == "/api/v1/me":
			_ = json.NewEncoder(w).Encode(api.User{Username: "alice", Admin: true})
		case strings.HasSuffix(r.URL.Path, "/password"):
			var req api.PasswordRequest
			_ = json.NewDecoder(r.Body).Decode(&req)
			got[r.URL.Path] = req
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	t.Setenv("DET_USER", "alice")
	for _, c := range []struct {
		args  []string
		stdin string
		path  string
		want  api.PasswordRequest
	}{
		{[]string{"user", "change-password"}, "old-pw\nnew-pw\n", "/api/v1/users/alice/password", api.PasswordRequest{OldPassword: "old-pw", Password: "new-pw"}},
		{[]string{"user", "change-password", "alice"}, "old-pw\nnew-pw\n", "/api/v1/users/alice/password", api.PasswordRequest{OldPassword: "old-pw", Password: "new-pw"}},
		{[]string{"user", "change-password", "bob"}, "bob-pw\n", "/api/v1/users/bob/password", api.PasswordRequest{Password: "bob-pw"}},
	} {
		got = map[string]api.PasswordRequest{}
		var out, errOut bytes.Buffer
		code := Execute(context.Background(), append([]string{"-m", srv.URL}, c.args...), IO{In: strings.NewReader(c.stdin), Out: &out, ErrOut: &errOut})
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errOut.String())
		}
		if got[c.path] != c.want {
			t.Errorf("%v sent %+v to %s, want %+v", c.args, got, c.path, c.want)
		}
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
			_ = json.NewEncoder(w).Encode(api.LoginResponse{Token: "t"})
		case "/api/v1/me":
			_ = json.NewEncoder(w).Encode(api.User{Username: "alice"})
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
