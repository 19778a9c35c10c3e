package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/client"
	"github.com/det-slurm/bridge/jobspec"
)

// asUser returns a client logged in as a bridge user linked to the POSIX
// user of the same name, creating and linking it when needed. The password
// is reset (which ends every session of the user) only when it is not
// name-password already, so clients of other tests stay logged in.
func asUser(t *testing.T, name string) *client.Client {
	t.Helper()
	cluster(t)
	admin := client.New(master, "")
	if _, err := admin.Login(ctxT(t, 10*time.Second), "admin", ""); err != nil {
		t.Fatal(err)
	}
	pass := name + "-password"
	c := client.New(master, "")
	if _, err := c.Login(ctxT(t, 10*time.Second), name, pass); err != nil {
		var ae *client.APIError
		_, err := admin.CreateUser(ctxT(t, 10*time.Second), name, pass, false)
		if err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusConflict) {
			t.Fatalf("create user %s: %v", name, err)
		}
		if err := admin.ChangePassword(ctxT(t, 10*time.Second), name, "", pass); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Login(ctxT(t, 10*time.Second), name, pass); err != nil {
			t.Fatalf("log in as %s: %v", name, err)
		}
	}
	if _, err := admin.PatchUserByName(ctxT(t, 10*time.Second), name, api.PatchUser{AgentUserGroup: &api.AgentUserGroup{AgentUser: name}}); err != nil {
		t.Fatalf("link %s: %v", name, err)
	}
	return c
}

// runAs runs a command as a POSIX user, with a clean HOME and no det
// credentials in its environment.
func runAs(t *testing.T, posix string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("runuser", append([]string{"-u", posix, "--", "env", "-i", "HOME=/home/" + posix, "PATH=/usr/bin:/bin",
		"DET_MASTER=" + master, name}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestUsersAreIsolated: alice's and bob's notebooks run as their own uids,
// and bob reaches nothing of alice's: not the API, not the proxy, not the
// node's port.
func TestUsersAreIsolated(t *testing.T) {
	alice := asUser(t, "alice")
	bob := asUser(t, "bob")
	an := start(t, alice, directNotebook()) // its port is attacked below
	bn := start(t, bob, cpuNotebook())
	an = waitState(t, alice, an.ID, api.StateRunning, startWithin)
	bn = waitState(t, bob, bn.ID, api.StateRunning, startWithin)
	for _, c := range []struct {
		cl   *client.Client
		id   string
		want string
	}{{alice, an.ID, "2001"}, {bob, bn.ID, "2002"}} {
		k := openKernel(t, c.cl, c.id)
		if got := strings.TrimSpace(k.exec("import os; print(os.getuid())")); got != c.want {
			t.Errorf("kernel of %s runs as uid %s, want %s", c.id, got, c.want)
		}
	}

	_, err := bob.Notebook(ctxT(t, 10*time.Second), an.ID)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("bob reads alice's notebook: %v, want 404", err)
	}
	_, err = bob.KillNotebook(ctxT(t, 10*time.Second), an.ID)
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Errorf("bob kills alice's notebook: %v, want 403", err)
	}
	if code, _ := proxyGet(t, bob, an.ID, "api/status"); code != http.StatusForbidden && code != http.StatusNotFound {
		t.Errorf("bob through the proxy to alice's notebook: %d", code)
	}
	wsURL := "ws" + strings.TrimPrefix(master, "http") + "/proxy/" + an.ID + "/api/kernels/x/channels"
	_, resp, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Authorization": {"Bearer " + bob.Token}})
	if err == nil || resp == nil || (resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound) {
		t.Errorf("bob's websocket upgrade to alice's notebook: %v %v", resp, err)
	}

	st, err := store.Open(filepath.Join(state, "bridge", "bridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	task, err := st.GetTask(context.Background(), an.ID)
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://%s:%d/proxy/%s/api/contents", task.Host, task.Port, an.ID)
	out, _ := runAs(t, "bob", "/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url)
	if out != "403" {
		t.Errorf("bob's direct request to alice's Jupyter port: %q, want 403", out)
	}
	for path, mode := range map[string]os.FileMode{task.JobDir: 0o700, filepath.Join(task.JobDir, "task.json"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}
	if out, err := runAs(t, "bob", "/bin/cat", filepath.Join(task.JobDir, "task.json")); err == nil {
		t.Errorf("bob read alice's task.json: %s", out)
	}
}

// TestForgedReady: a ready callback with a wrong secret, or with the right
// secret but a node outside the job's allocation, is refused and the route
// is unchanged.
func TestForgedReady(t *testing.T) {
	c := cluster(t)
	nb := start(t, c, directNotebook())
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	st, err := store.Open(filepath.Join(state, "bridge", "bridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	task, err := st.GetTask(context.Background(), nb.ID)
	if err != nil {
		t.Fatal(err)
	}
	cb := client.New(master, "")
	for _, tc := range []struct {
		secret, node string
	}{{"wrong-secret", nb.Node}, {task.Secret, "r1-gpu02-ib"}} {
		err := doSecret(t, cb, nb.ID, tc.secret, jobspec.ReadyRequest{Node: tc.node, Port: 9})
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
			t.Errorf("forged ready (secret ok=%v, node %s): %v, want 403", tc.secret == task.Secret, tc.node, err)
		}
	}
	after, _ := st.GetTask(context.Background(), nb.ID)
	if after.Host != task.Host || after.Port != task.Port {
		t.Errorf("route changed: %s:%d -> %s:%d", task.Host, task.Port, after.Host, after.Port)
	}
	if code, _ := proxyGet(t, c, nb.ID, "api/status"); code != http.StatusOK {
		t.Errorf("the notebook no longer answers through the proxy: %d", code)
	}
}

func doSecret(t *testing.T, c *client.Client, id, secret string, body any) error {
	t.Helper()
	hc := c.HTTP
	c.HTTP = &http.Client{Transport: headerTransport{jobspec.SecretHeader, secret}}
	defer func() { c.HTTP = hc }()
	return c.Do(ctxT(t, 10*time.Second), http.MethodPost, client.Path("tasks", id, "ready"), body, nil)
}

type headerTransport struct{ k, v string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r.Header.Set(h.k, h.v)
	return http.DefaultTransport.RoundTrip(r)
}

// TestMungeLogin: `det` run by bob on the cluster, with no stored token,
// proves who he is with munge and lists his notebooks; a credential
// cannot be used twice. (Bob, not alice: on the dev cluster alice's
// account is linked to `determined` too, and a munge login never picks
// among several bridge users.)
func TestMungeLogin(t *testing.T) {
	bob := asUser(t, "bob")
	nb := start(t, bob, cpuNotebook())
	os.RemoveAll("/home/bob/.det")
	out, err := runAs(t, "bob", filepath.Join(repo, "bin", "det"), "notebook", "list")
	if err != nil || !strings.Contains(out, nb.ID) || !strings.Contains(out, "bob") {
		t.Fatalf("det notebook list as bob via munge: %v\n%s", err, out)
	}
	cred, err := runAs(t, "bob", "/usr/bin/munge", "-s", api.MungePayload(master))
	if err != nil {
		t.Fatalf("munge -s: %v %s", err, cred)
	}
	c := client.New(master, "")
	if _, err := c.MungeLogin(ctxT(t, 10*time.Second), cred); err != nil {
		t.Fatalf("first use of a credential: %v", err)
	}
	if _, err := c.MungeLogin(ctxT(t, 10*time.Second), cred); err == nil {
		t.Fatal("a replayed munge credential was accepted")
	}
}

// TestWrongPasswords: after ten wrong passwords in a row the user's next
// attempt, even with the right password, is refused for a while.
func TestWrongPasswords(t *testing.T) {
	cluster(t)
	name := fmt.Sprintf("victim%d", time.Now().UnixNano()%1e6)
	admin := client.New(master, "")
	if _, err := admin.Login(ctxT(t, 10*time.Second), "admin", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateUser(ctxT(t, 10*time.Second), name, "right", false); err != nil {
		t.Fatal(err)
	}
	c := client.New(master, "")
	for i := 0; i < 10; i++ {
		_, _ = c.Login(ctxT(t, 10*time.Second), name, "wrong")
	}
	_, err := c.Login(ctxT(t, 10*time.Second), name, "right")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests {
		t.Fatalf("after ten wrong passwords the right one got %v, want 429", err)
	}
}
