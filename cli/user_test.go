package cli

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// TestLoginLogout: login reads the password, logs in and keeps the token
// for the bridge's address; logout revokes and forgets it, or only
// forgets it when there is none to revoke.
func TestLoginLogout(t *testing.T) {
	ctx := context.Background()
	tokens := tokenFile{dir: t.TempDir()}
	f := &fakeClient{}
	con, out, _ := testConsole("alice-pw\n")
	if err := runLogin(ctx, loginOptions{username: "alice", master: "http://b:8080/", tokens: tokens}, f, con); err != nil {
		t.Fatal(err)
	}
	if !f.called("Login alice alice-pw") || out.String() != "Logged in to http://b:8080/ as alice.\n" {
		t.Errorf("calls %v, printed %q", f.calls, out.String())
	}
	if got := tokens.load("http://b:8080"); got != (savedToken{Username: "alice", Token: "t-alice"}) {
		t.Errorf("saved %+v", got)
	}
	if err := runLogout(ctx, logoutOptions{master: "http://b:8080", tokens: tokens}, f, con); err != nil || !f.called("Logout t-alice") {
		t.Errorf("logout: %v %v", err, f.calls)
	}
	if got := tokens.load("http://b:8080"); got.Token != "" {
		t.Errorf("still saved: %+v", got)
	}
	if err := runLogout(ctx, logoutOptions{master: "http://b:8080", tokens: tokens}, nil, con); err != nil {
		t.Errorf("logout without a token: %v", err)
	}
	f.errs = map[string]error{"Login": &client.APIError{Status: 401, Message: "invalid credentials"}}
	if err := runLogin(ctx, loginOptions{username: "bob", master: "http://b:8080", tokens: tokens}, f, con); err == nil || tokens.load("http://b:8080").Token != "" {
		t.Errorf("a refused login: %v, saved %+v", err, tokens.load("http://b:8080"))
	}
}

// TestLoginCommand: det user login logs in as determined unless named,
// with a client that holds no token, and det user whoami uses the saved
// token.
func TestLoginCommand(t *testing.T) {
	detEnv(t, "")
	f := &fakeClient{me: api.User{Username: "bob"}}
	if out, errOut, code := runFake(t, f, "\n", "user", "login"); code != 0 || !f.called("New http://bridge.example ") || !f.called("Login determined ") || out != "Logged in to http://bridge.example as determined.\n" {
		t.Fatalf("exit %d, calls %v\n%s%s", code, f.calls, out, errOut)
	}
	f.calls = nil
	if out, errOut, code := runFake(t, f, "", "user", "whoami"); code != 0 || !f.called("New http://bridge.example t-determined") || out != "You are logged in as user \"bob\"\n" {
		t.Errorf("whoami: exit %d, calls %v\n%s%s", code, f.calls, out, errOut)
	}
}

// TestWhoami prints the user's name.
func TestWhoami(t *testing.T) {
	con, out, _ := testConsole("")
	if err := runWhoami(context.Background(), whoamiOptions{}, &fakeClient{me: api.User{Username: "alice"}}, con); err != nil || out.String() != "You are logged in as user \"alice\"\n" {
		t.Errorf("%v %q", err, out.String())
	}
}

// TestCreateUser: the password is read from the input; --admin goes with
// the request.
func TestCreateUser(t *testing.T) {
	f := &fakeClient{}
	con, out, _ := testConsole("carol-pw\n")
	if err := runCreateUser(context.Background(), createUserOptions{username: "carol", admin: true}, f, con); err != nil {
		t.Fatal(err)
	}
	if !f.called("CreateUser carol carol-pw true") || out.String() != "Created user carol.\n" {
		t.Errorf("calls %v, printed %q", f.calls, out.String())
	}
	detEnv(t, "alice")
	f.calls = nil
	if _, errOut, code := runFake(t, f, "pw\n", "user", "create", "dave"); code != 0 || !f.called("CreateUser dave pw false") {
		t.Errorf("det user create dave: exit %d, calls %v: %s", code, f.calls, errOut)
	}
}

// TestChangePassword: one's own password is changed with the current one
// (read first from a pipe), checked by the client; a remote user has
// none to give; an admin resetting another's gives none; a refusal is
// passed on.
func TestChangePassword(t *testing.T) {
	for _, c := range []struct {
		name   string
		user   string // the argument; "" for one's own
		remote bool
		stdin  string
		want   string
		said   string
	}{
		{"own", "", false, "old-pw\nnew-pw\n", "ChangeOwnPassword alice old-pw new-pw", "Password of alice changed; your other sessions are logged out.\n"},
		{"own, named", "alice", false, "old-pw\nnew-pw\n", "ChangeOwnPassword alice old-pw new-pw", "Password of alice changed; your other sessions are logged out.\n"},
		{"own, remote", "", true, "new-pw\n", "ChangePassword alice  new-pw", "Password of alice changed; your other sessions are logged out.\n"},
		{"another's", "bob", false, "bob-pw\n", "ChangePassword bob  bob-pw", "Password of bob set; all of bob's sessions are logged out.\n"},
	} {
		f := &fakeClient{me: api.User{Username: "alice", Remote: c.remote}}
		con, out, _ := testConsole(c.stdin)
		tokens := tokenFile{dir: t.TempDir()}
		if err := tokens.save("http://bridge", savedToken{Username: "alice", Token: "old-token"}); err != nil {
			t.Fatal(err)
		}
		o := changePasswordOptions{username: c.user, master: "http://bridge", tokens: tokens}
		if err := runChangePassword(context.Background(), o, f, con); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !f.called(c.want) || out.String() != c.said {
			t.Errorf("%s: calls %v, printed %q", c.name, f.calls, out.String())
		}
		wantTok := "old-token"
		if c.want == "ChangeOwnPassword alice old-pw new-pw" {
			wantTok = "fresh-token-of-alice" // the change ended the saved session
		}
		if got := tokens.load("http://bridge").Token; got != wantTok {
			t.Errorf("%s: saved token %q, want %q", c.name, got, wantTok)
		}
	}
	refused := &client.APIError{Status: 403, Message: "the current password is wrong; the password of alice is unchanged"}
	f := &fakeClient{me: api.User{Username: "alice"}, errs: map[string]error{"ChangeOwnPassword": refused}}
	con, out, _ := testConsole("wrong\nnew-pw\n")
	if err := runChangePassword(context.Background(), changePasswordOptions{}, f, con); !errors.Is(err, refused) || out.Len() != 0 {
		t.Errorf("a wrong current password: %v, printed %q", err, out.String())
	}
}

// TestDeactivate patches the named user inactive.
func TestDeactivate(t *testing.T) {
	f := &fakeClient{}
	con, out, _ := testConsole("")
	if err := runDeactivate(context.Background(), deactivateOptions{username: "bob"}, f, con); err != nil || !f.called("PatchUserByName bob active=false") || out.String() != "Deactivated bob.\n" {
		t.Errorf("%v, calls %v, printed %q", err, f.calls, out.String())
	}
}

// TestListUsers: a table with each user's POSIX link, or JSON.
func TestListUsers(t *testing.T) {
	uid := 2001
	f := &fakeClient{users: []api.User{
		{Username: "alice", Admin: true, Active: true, AgentUserGroup: &api.AgentUserGroup{AgentUser: "alice", AgentUID: &uid}},
		{Username: "bob"},
	}}
	con, out, _ := testConsole("")
	if err := runListUsers(context.Background(), listUsersOptions{}, f, con); err != nil || !f.called("Users false") {
		t.Fatalf("%v %v", err, f.calls)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "Username Admin Active Agent User Agent UID" ||
		strings.Join(strings.Fields(lines[1]), " ") != "alice true true alice 2001" || strings.Join(strings.Fields(lines[2]), " ") != "bob false false" {
		t.Errorf("table:\n%s", out.String())
	}
	con, out, _ = testConsole("")
	var users []api.User
	if err := runListUsers(context.Background(), listUsersOptions{json: true}, f, con); err != nil || json.Unmarshal(out.Bytes(), &users) != nil || len(users) != 2 || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("--json: %v\n%s", err, out.String())
	}
}

// TestLinkAgentUser: the uid and gid are sent only when given;
// --agent-user is required before anything is asked of the bridge.
func TestLinkAgentUser(t *testing.T) {
	f := &fakeClient{}
	con, out, _ := testConsole("")
	if err := runLinkAgentUser(context.Background(), linkAgentUserOptions{username: "alice", link: api.AgentUserGroup{AgentUser: "alice", AgentGroup: "users"}}, f, con); err != nil ||
		!f.called("PatchUserByName alice agentUser=alice,agentGroup=users") || out.String() != "Linked alice to POSIX user alice.\n" {
		t.Errorf("%v, calls %v, printed %q", err, f.calls, out.String())
	}
	detEnv(t, "admin")
	f.calls = nil
	if _, errOut, code := runFake(t, f, "", "user", "link-with-agent-user", "alice", "--agent-user", "alice", "--agent-uid", "2001"); code != 0 || !f.called("PatchUserByName alice agentUser=alice,agentGroup=,agentUid=2001") {
		t.Errorf("exit %d, calls %v: %s", code, f.calls, errOut)
	}
	f.calls = nil
	if _, errOut, code := runFake(t, f, "", "user", "link-with-agent-user", "alice"); code != 1 || errOut != "Error: --agent-user is required\n" || len(f.calls) != 0 {
		t.Errorf("without --agent-user: exit %d, calls %v: %q", code, f.calls, errOut)
	}
}
