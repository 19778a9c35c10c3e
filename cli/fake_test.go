package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// fakeClient is a bridge in memory: it answers from its fields, records
// each call (method and arguments) in calls, and fails a method named in
// errs with that error. Made by newRoot's factory, it holds the last
// token it was made with or given by a login.
type fakeClient struct {
	token string
	calls []string
	errs  map[string]error

	me       api.User
	users    []api.User
	master   api.Master
	pools    []api.ResourcePool
	tasks    map[string]api.AllocationSummary
	agents   []api.Agent
	audit    []api.AuditEntry
	list     []api.Notebook
	launched client.Launched
	// states are the states Get answers with in turn (the last one
	// again after them); none: launched's.
	states   []string
	logs     []api.TaskLog
	extended api.Extension
	relaunch client.Relaunched
	// shell is the websocket server DialShell connects to; ssh the one
	// DialSSH connects to.
	shell, ssh string
}

var _ bridgeClient = (*fakeClient)(nil)

// call records a call and returns the error set for the method.
func (f *fakeClient) call(method string, args ...any) error {
	s := method
	for _, a := range args {
		s += " " + fmt.Sprint(a)
	}
	f.calls = append(f.calls, s)
	return f.errs[method]
}

// called reports whether a call was recorded exactly as want.
func (f *fakeClient) called(want string) bool {
	for _, c := range f.calls {
		if c == want {
			return true
		}
	}
	return false
}

func (f *fakeClient) Login(_ context.Context, user, pass string) (string, error) {
	if err := f.call("Login", user, pass); err != nil {
		return "", err
	}
	f.token = "t-" + user
	return f.token, nil
}

func (f *fakeClient) MungeLogin(_ context.Context, cred string) (string, error) {
	if err := f.call("MungeLogin", cred); err != nil {
		return "", err
	}
	f.token = "t-munge"
	return f.token, nil
}

func (f *fakeClient) Logout(context.Context) error { return f.call("Logout", f.token) }

func (f *fakeClient) Me(context.Context) (*api.User, error) {
	if err := f.call("Me", f.token); err != nil {
		return nil, err
	}
	return &f.me, nil
}

func (f *fakeClient) Users(_ context.Context, activeOnly bool) ([]api.User, error) {
	return f.users, f.call("Users", activeOnly)
}

func (f *fakeClient) CreateUser(_ context.Context, name, pass string, admin bool) (*api.User, error) {
	return &api.User{Username: name}, f.call("CreateUser", name, pass, admin)
}

func (f *fakeClient) PatchUserByName(_ context.Context, name string, p api.PatchUser) (*api.User, error) {
	return &api.User{Username: name}, f.call("PatchUserByName", name, patchText(p))
}

// patchText shows a patch's fields that are set.
func patchText(p api.PatchUser) string {
	var parts []string
	if p.Active != nil {
		parts = append(parts, fmt.Sprintf("active=%t", *p.Active))
	}
	if p.Password != nil {
		parts = append(parts, "password="+*p.Password)
	}
	if a := p.AgentUserGroup; a != nil {
		parts = append(parts, "agentUser="+a.AgentUser, "agentGroup="+a.AgentGroup)
		if a.AgentUID != nil {
			parts = append(parts, fmt.Sprintf("agentUid=%d", *a.AgentUID))
		}
		if a.AgentGID != nil {
			parts = append(parts, fmt.Sprintf("agentGid=%d", *a.AgentGID))
		}
	}
	return strings.Join(parts, ",")
}

func (f *fakeClient) ChangePassword(_ context.Context, name, old, password string) error {
	return f.call("ChangePassword", name, old, password)
}

func (f *fakeClient) ChangeOwnPassword(_ context.Context, name, old, password string) (string, error) {
	if err := f.call("ChangeOwnPassword", name, old, password); err != nil {
		return "", err
	}
	return "fresh-token-of-" + name, nil
}

func (f *fakeClient) Launch(_ context.Context, k client.Kind, req api.LaunchRequest) (*client.Launched, error) {
	if err := f.call("Launch", k.Name, req.Preview, len(req.Files)); err != nil {
		return nil, err
	}
	l := f.launched
	return &l, nil
}

func (f *fakeClient) List(_ context.Context, k client.Kind) ([]api.Notebook, error) {
	return f.list, f.call("List", k.Name)
}

func (f *fakeClient) Get(_ context.Context, k client.Kind, id string) (*client.Launched, error) {
	if err := f.call("Get", k.Name, id); err != nil {
		return nil, err
	}
	l := f.launched
	if len(f.states) > 0 {
		l.Task.State = f.states[0]
		if len(f.states) > 1 {
			f.states = f.states[1:]
		}
	}
	return &l, nil
}

func (f *fakeClient) Kill(_ context.Context, k client.Kind, id string) (*api.Notebook, error) {
	if err := f.call("Kill", k.Name, id); err != nil {
		return nil, err
	}
	return &api.Notebook{ID: id + "-full", Description: "JupyterLab (" + id + ")"}, nil
}

func (f *fakeClient) Extend(_ context.Context, k client.Kind, id, by string) (*api.Notebook, *api.Extension, error) {
	if err := f.call("Extend", k.Name, id, by); err != nil {
		return nil, nil, err
	}
	return &f.launched.Task, &f.extended, nil
}

func (f *fakeClient) Relaunch(_ context.Context, k client.Kind, id string) (*client.Relaunched, error) {
	if err := f.call("Relaunch", k.Name, id); err != nil {
		return nil, err
	}
	r := f.relaunch
	return &r, nil
}

func (f *fakeClient) Logs(_ context.Context, id string, o client.LogOptions, fn func(api.TaskLog) error) error {
	if err := f.call("Logs", id, fmt.Sprintf("%+v", o)); err != nil {
		return err
	}
	for _, l := range f.logs {
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeClient) DialShell(ctx context.Context, id string) (*websocket.Conn, error) {
	if err := f.call("DialShell", id); err != nil {
		return nil, err
	}
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, f.shell, nil)
	return conn, err
}

func (f *fakeClient) DialSSH(ctx context.Context, id string) (*websocket.Conn, error) {
	if err := f.call("DialSSH", id); err != nil {
		return nil, err
	}
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, f.ssh, nil)
	return conn, err
}

func (f *fakeClient) URL(path string) string { return "http://bridge.example" + path }

func (f *fakeClient) MasterInfo(context.Context) (*api.Master, error) {
	if err := f.call("MasterInfo"); err != nil {
		return nil, err
	}
	m := f.master
	return &m, nil
}

func (f *fakeClient) ResourcePools(context.Context) ([]api.ResourcePool, error) {
	return f.pools, f.call("ResourcePools")
}

func (f *fakeClient) Tasks(context.Context) (map[string]api.AllocationSummary, error) {
	return f.tasks, f.call("Tasks")
}

func (f *fakeClient) Agents(context.Context) ([]api.Agent, error) {
	return f.agents, f.call("Agents")
}

func (f *fakeClient) Audit(_ context.Context, q client.AuditQuery) ([]api.AuditEntry, error) {
	return f.audit, f.call("Audit", fmt.Sprintf("%+v", q))
}

// testConsole is a console on buffers, with stdin as its input.
func testConsole(stdin string) (*console, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return newConsole(IO{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}), &out, &errOut
}

// detEnv makes det log in as DET_USER user (none when ""), with no saved
// token, no munge and no DET_MASTER, for the rest of the test.
func detEnv(t *testing.T, user string) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PATH", "") // no munge
	for _, k := range []string{"DET_USER_TOKEN", "DET_USER", "DET_PASS", "DET_MASTER"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	if user != "" {
		t.Setenv("DET_USER", user)
	}
}

// runFake runs det with args against f, stdin as its input, and returns
// what it printed and its exit code.
func runFake(t *testing.T, f *fakeClient, stdin string, args ...string) (out, errOut string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	streams := IO{In: strings.NewReader(stdin), Out: &o, ErrOut: &e}
	root := newRoot(streams, func(master, token string) bridgeClient {
		f.call("New", master, token)
		f.token = token
		return f
	})
	code = execute(context.Background(), root, append([]string{"-m", "http://bridge.example"}, args...), &e)
	return o.String(), e.String(), code
}
