package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// TestStaleSavedToken: a saved token the bridge no longer takes (a new
// database, an expired session) is dropped, and det goes on as without
// one (here: the default user), instead of failing every command.
func TestStaleSavedToken(t *testing.T) {
	detEnv(t, "")
	tokens := tokenFile{}
	if err := tokens.save("http://bridge.example", savedToken{Username: "determined", Token: "stale"}); err != nil {
		t.Fatal(err)
	}
	f := &fakeClient{errs: map[string]error{"Me": fmt.Errorf("%w: %w", client.ErrUnauthorized, &client.APIError{Status: 401, Message: "not logged in"})}}
	if out, errOut, code := runFake(t, f, "", "notebook", "list"); code != 0 {
		t.Fatalf("det notebook list with a stale saved token: exit %d\n%s%s", code, out, errOut)
	}
	if !f.called("Me stale") || !f.called("Login determined ") || !f.called("List notebook") {
		t.Errorf("calls %v", f.calls)
	}
	if p, _ := tokens.path(); !strings.HasPrefix(p, os.Getenv("HOME")) {
		t.Fatalf("the tokens are kept in %s", p)
	}
	if got := tokens.load("http://bridge.example"); got.Token != "" {
		t.Errorf("the stale token is still saved: %+v", got)
	}
}

// TestClientLogin: DET_USER_TOKEN is used as it is; DET_USER logs in with
// DET_PASS, and a refusal names DET_USER; without either, a refused
// default login says how to log in.
func TestClientLogin(t *testing.T) {
	detEnv(t, "")
	t.Setenv("DET_USER_TOKEN", "task-token")
	f := &fakeClient{}
	if _, errOut, code := runFake(t, f, "", "notebook", "list"); code != 0 || !f.called("New http://bridge.example task-token") || f.called("Login determined ") {
		t.Errorf("DET_USER_TOKEN: exit %d, calls %v: %s", code, f.calls, errOut)
	}
	os.Unsetenv("DET_USER_TOKEN")
	t.Setenv("DET_USER", "alice")
	t.Setenv("DET_PASS", "alice-pw")
	f = &fakeClient{}
	if _, errOut, code := runFake(t, f, "", "notebook", "list"); code != 0 || !f.called("Login alice alice-pw") {
		t.Errorf("DET_USER: exit %d, calls %v: %s", code, f.calls, errOut)
	}
	unauthorized := fmt.Errorf("%w: %w", client.ErrUnauthorized, &client.APIError{Status: 401, Message: "invalid credentials"})
	f = &fakeClient{errs: map[string]error{"Login": unauthorized}}
	if _, errOut, code := runFake(t, f, "", "notebook", "list"); code != 1 || !strings.HasPrefix(errOut, "Error: log in as alice (DET_USER): not logged in: invalid credentials\n") {
		t.Errorf("a refused DET_USER: exit %d: %q", code, errOut)
	}
	os.Unsetenv("DET_USER")
	if _, errOut, code := runFake(t, f, "", "notebook", "list"); code != 1 ||
		errOut != "Error: not logged in to http://bridge.example: not logged in\nLog in with `det user login`, or set DET_USER and DET_PASS.\n" {
		t.Errorf("a refused default login: exit %d: %q", code, errOut)
	}
}

// TestMungePayloadNamesBridge: the munge credential det logs in with names
// the bridge it is for.
func TestMungePayloadNamesBridge(t *testing.T) {
	detEnv(t, "")
	dir := t.TempDir()
	script := "#!/bin/sh\nprintf 'MUNGE:%s|' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "munge"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":/usr/bin:/bin")
	f := &fakeClient{me: api.User{Username: "alice"}}
	if out, errOut, code := runFake(t, f, "", "-m", "http://bridge.example/", "user", "whoami"); code != 0 || out != "You are logged in as user \"alice\"\n" {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if want := "MungeLogin MUNGE:-s|MUNGE:det-bridge login http://bridge.example|"; !f.called(want) || f.called("Login determined ") {
		t.Fatalf("calls %v, want %q", f.calls, want)
	}
}
