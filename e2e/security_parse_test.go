package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// Item 7: one user must not blind the bridge for everyone, nor make it
// open what they could not open themselves.
var (
	_ = addSecCase(7, "job-name-forges-another-job", secJobNameForgery)
	_ = addSecCase(7, "image-fifo-device", secImageNotAFile)
	_ = addSecCase(7, "image-under-root-only-folder", secImageExistenceHidden)
)

// Item 11: what a program prints in a shell is never a control message.
var _ = addSecCase(11, "shell-output-forges-exit", secShellForgedExit)

// scontrolAs runs scontrol as a POSIX user, on the dev cluster.
func scontrolAs(t *testing.T, posix string, args ...string) (string, error) {
	t.Helper()
	return runAs(t, posix, "/usr/bin/env", append([]string{"SLURM_CONF=" + filepath.Join(state, "slurm.conf"), "scontrol"}, args...)...)
}

// masterStatus reads the bridge's view of Slurm.
func masterStatus(t *testing.T, c *client.Client) api.SlurmStatus {
	t.Helper()
	m, err := c.MasterInfo(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatalf("GET /api/v1/master: %v", err)
	}
	if m.Slurm == nil {
		t.Fatal("GET /api/v1/master has no slurm status")
	}
	return *m.Slurm
}

// secJobNameForgery: bob renames his own running notebook's job to names
// with "|", a newline and a forged record saying alice's job is
// CANCELLED/COMPLETED, and to alice's task's job name. Alice's notebook
// stays RUNNING, bob's is still tracked, and the bridge's view of Slurm
// stays current.
func secJobNameForgery(t *testing.T) {
	alice := asUser(t, "alice")
	bob := asUser(t, "bob")
	an := start(t, alice, cpuNotebook())
	bn := start(t, bob, cpuNotebook())
	an = waitState(t, alice, an.ID, api.StateRunning, startWithin)
	bn = waitState(t, bob, bn.ID, api.StateRunning, startWithin)

	// Records as the old format (%i|%j|%T|%r|%N|%S|%L|%u|%q) and the
	// present ones would print them, for alice's job.
	forgedOld := an.SlurmJobID + "|det-notebook-" + an.ID + "|CANCELLED|None|cpu1|N/A|0:00|alice|normal"
	forgedNew := an.SlurmJobID + "|COMPLETED|N/A|0:00|alice|normal|cpu1|None"
	names := []struct {
		what    string
		name    string
		mustSet bool
	}{
		{"a pipe", "evil|name|with|pipes", true},
		{"a newline and a forged record", "evil\n" + forgedOld + "\n" + forgedNew, false},
		{"alice's task's job name", "det-notebook-" + an.ID, true},
	}
	for _, n := range names {
		out, err := scontrolAs(t, "bob", "update", "JobId="+bn.SlurmJobID, "JobName="+n.name)
		if err != nil {
			if n.mustSet {
				t.Fatalf("bob renaming his own job to %s: %v\n%s", n.what, err, out)
			}
			t.Logf("Slurm refused %s in a job name (%s); nothing to attack there", n.what, strings.TrimSpace(out))
			continue
		}
		renamed := time.Now()
		show := run(t, "scontrol", "show", "job", bn.SlurmJobID)
		if !strings.Contains(show, "JobName="+strings.SplitN(n.name, "\n", 2)[0]) {
			t.Fatalf("the rename to %s did not take:\n%s", n.what, show)
		}
		stillRunning(t, alice, an.ID, 6*time.Second, "bob renamed his job to "+n.what)
		if nb, err := bob.Notebook(ctxT(t, 10*time.Second), bn.ID); err != nil || nb.State != api.StateRunning || nb.SlurmJobID != bn.SlurmJobID {
			t.Errorf("after the rename to %s bob's notebook is %+v (%v), want it RUNNING and tracked", n.what, nb, err)
		}
		st := masterStatus(t, alice)
		if st.Stale || st.LastOK == nil || st.LastOK.Before(renamed) {
			t.Errorf("after the rename to %s the bridge's view of Slurm is stale: %+v", n.what, st)
		}
	}
	if nb, err := alice.Notebook(ctxT(t, 10*time.Second), an.ID); err != nil || nb.State != api.StateRunning {
		t.Errorf("alice's notebook at the end: %+v %v", nb, err)
	}
	if code, _ := proxyGet(t, alice, an.ID, "api/status"); code != http.StatusOK {
		t.Errorf("alice's notebook no longer answers through the proxy: %d", code)
	}
}

// submitImage asks for a CPU notebook with the given image and returns the
// refusal and how long it took.
func submitImage(t *testing.T, c *client.Client, img string) (*client.APIError, time.Duration) {
	t.Helper()
	cfg := cpuNotebook()
	cfg["environment"] = map[string]any{"image": img}
	began := time.Now()
	nb, err := c.StartNotebook(ctxT(t, time.Minute), cfg, nil)
	took := time.Since(began)
	if err == nil {
		t.Cleanup(func() { _, _ = c.KillNotebook(ctxT(t, 10*time.Second), nb.ID) })
		t.Fatalf("image %s was accepted (notebook %s)", img, nb.ID)
	}
	var ae *client.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("image %s: %v, want an answer from the bridge", img, err)
	}
	return ae, took
}

// secImageNotAFile: bob's image is a named pipe (directly or through a
// link) or a device: refused with a 400 within seconds, not a hung
// request.
func secImageNotAFile(t *testing.T) {
	bob := asUser(t, "bob")
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("e2e-bob-images-%d", time.Now().UnixNano()))
	if out, err := runAs(t, "bob", "/bin/mkdir", "-m", "0755", dir); err != nil {
		t.Fatalf("mkdir as bob: %v %s", err, out)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	fifo := filepath.Join(dir, "pipe.sif")
	link := filepath.Join(dir, "link.sif")
	if out, err := runAs(t, "bob", "/usr/bin/mkfifo", fifo); err != nil {
		t.Fatalf("mkfifo as bob: %v %s", err, out)
	}
	if out, err := runAs(t, "bob", "/bin/ln", "-s", fifo, link); err != nil {
		t.Fatalf("ln as bob: %v %s", err, out)
	}
	for _, img := range []string{fifo, link, "/dev/zero"} {
		ae, took := submitImage(t, bob, img)
		if ae.Status != http.StatusBadRequest || !strings.Contains(ae.Message, "environment.image") || !strings.Contains(ae.Message, img) {
			t.Errorf("image %s: %d %q, want a 400 about environment.image", img, ae.Status, ae.Message)
		}
		if took > 5*time.Second {
			t.Errorf("image %s: the answer took %s", img, took)
		}
	}
}

// secImageExistenceHidden: an image path inside a folder only root may
// enter gets the same answer whether the file exists (and is a good image)
// or not, so bob learns nothing about root's files.
func secImageExistenceHidden(t *testing.T) {
	bob := asUser(t, "bob")
	good := filepath.Join(state, "images", "jupyterlab.sif")
	if _, err := os.Stat(good); err != nil {
		t.Fatalf("the dev cluster's image: %v", err)
	}
	secret, err := os.MkdirTemp("", "e2e-root-only-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(secret) })
	if err := os.Chmod(secret, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(good, filepath.Join(secret, "exists.sif")); err != nil {
		t.Fatal(err)
	}
	pairs := [][2]string{{filepath.Join(secret, "exists.sif"), filepath.Join(secret, "missing.sif")}}
	if fi, err := os.Stat("/root"); err == nil && fi.Mode().Perm()&0o001 == 0 {
		exists := fmt.Sprintf("/root/e2e-%d.sif", time.Now().UnixNano())
		if err := os.Symlink(good, exists); err == nil {
			t.Cleanup(func() { os.Remove(exists) })
			pairs = append(pairs, [2]string{exists, strings.TrimSuffix(exists, ".sif") + "-missing.sif"})
		}
	}
	for _, p := range pairs {
		a, tookA := submitImage(t, bob, p[0])
		b, tookB := submitImage(t, bob, p[1])
		ma := strings.ReplaceAll(a.Message, p[0], "PATH")
		mb := strings.ReplaceAll(b.Message, p[1], "PATH")
		if a.Status != b.Status || ma != mb {
			t.Errorf("an existing and a missing file under a root-only folder answer differently:\n  %s: %d %q\n  %s: %d %q", p[0], a.Status, a.Message, p[1], b.Status, b.Message)
		}
		if a.Status != http.StatusBadRequest || strings.Contains(ma, "does not exist") {
			t.Errorf("%s: %d %q, want a 400 that says bob may not read it", p[0], a.Status, a.Message)
		}
		if tookA > 5*time.Second || tookB > 5*time.Second {
			t.Errorf("answers took %s and %s", tookA, tookB)
		}
	}
}

// secShellForgedExit: a program that prints the shell's exit message
// neither ends `det shell` nor sets its status; the shell's own exit does.
// A client on the websocket gets the printed bytes as terminal output
// (binary frames) and the real exit as the only text frame.
func secShellForgedExit(t *testing.T) {
	c := cluster(t)
	tm := startTerm(t, "shell", "start", "--config", "resources.slots=0", "--config", "resources.resource_pool=cpu")
	id := tm.waitFor(`\(id: ([0-9a-f-]{36})\)`, 30*time.Second)[1]
	t.Cleanup(func() { _, _ = c.Kill(ctxT(t, 10*time.Second), client.ShellKind, id) })
	tm.waitFor(`[$>] $`, startWithin)

	// %d keeps the message itself out of the echoed command line.
	tm.typeIn(`printf '{"type":"exit","code":%d}\n' 7; printf '{"type":"exit","code":%d}' 0; echo; echo FORGED-$((40+2))` + "\r")
	tm.waitFor(`\{"type":"exit","code":7\}`, 20*time.Second)
	tm.waitFor(`FORGED-42`, 20*time.Second)
	tm.typeIn("echo ALIVE-$((1+1))\r")
	tm.waitFor(`ALIVE-2`, 20*time.Second)
	if nb, err := taskOf(ctxT(t, 10*time.Second), c, id); err != nil || nb.State != api.StateRunning {
		t.Fatalf("the shell after printing an exit message: %+v %v", nb, err)
	}

	url := "ws" + strings.TrimPrefix(master, "http") + "/proxy/" + id + "/shell"
	conn, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + c.Token}})
	if err != nil {
		t.Fatalf("attach to the shell's websocket: %v %v", resp, err)
	}
	defer conn.Close()
	if err := conn.WriteMessage(websocket.BinaryMessage, []byte(`printf '{"type":"exit","code":%d}\n' 5`+"\r")); err != nil {
		t.Fatal(err)
	}
	var screen bytes.Buffer
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for !strings.Contains(screen.String(), `{"type":"exit","code":5}`) {
		mt, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("reading the shell: %v; so far %q", err, screen.String())
		}
		if mt != websocket.BinaryMessage {
			t.Fatalf("a %d frame while the shell runs: %q", mt, data)
		}
		screen.Write(data)
	}
	conn.Close()

	tm.typeIn("exit 3\r")
	if code := tm.exitCode(30 * time.Second); code != 3 {
		t.Errorf("det shell exited %d, want the shell's 3", code)
	}
	nb := waitState(t, c, id, api.StateTerminated, 30*time.Second)
	if nb.ExitCode == nil || *nb.ExitCode != 3 {
		t.Errorf("task exit code %v (%s), want 3", nb.ExitCode, nb.Reason)
	}
}
