package e2e

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// term drives a command through a pseudo-terminal, as a person would.
type term struct {
	t    *testing.T
	ptmx *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
}

func startTerm(t *testing.T, args ...string) *term {
	t.Helper()
	cmd := exec.Command(filepath.Join(repo, "bin", "det"), args...)
	cmd.Env = append(os.Environ(), "DET_MASTER="+master)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, ptmx: ptmx, cmd: cmd}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { ptmx.Close(); _ = cmd.Process.Kill() })
	return tm
}

func (tm *term) text() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// waitFor waits until the screen's output matches re and returns the match.
func (tm *term) waitFor(re string, within time.Duration) []string {
	tm.t.Helper()
	m := tm.sees(re, within)
	if m == nil {
		tm.t.Fatalf("no %q on the terminal after %s; it shows:\n%s", re, within, tm.text())
	}
	return m
}

// sees waits up to within for the screen's output to match re and returns
// the match, or nil.
func (tm *term) sees(re string, within time.Duration) []string {
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(within)
	for {
		if m := rx.FindStringSubmatch(tm.text()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (tm *term) typeIn(s string) {
	if _, err := tm.ptmx.Write([]byte(s)); err != nil {
		tm.t.Fatal(err)
	}
}

// exitCode waits for the command to end and returns its status.
func (tm *term) exitCode(within time.Duration) int {
	tm.t.Helper()
	done := make(chan error, 1)
	go func() { done <- tm.cmd.Wait() }()
	select {
	case err := <-done:
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			tm.t.Fatal(err)
		}
		return 0
	case <-time.After(within):
		tm.t.Fatalf("det did not end within %s; the terminal shows:\n%s", within, tm.text())
		return -1
	}
}

// TestShell: `det shell start` in a real pty gives a shell in the job with
// its GPUs, follows resizes, detaches with ~. and attaches again with the
// scrollback, refuses another user, and `exit 3` ends the task with 3.
func TestShell(t *testing.T) {
	c := cluster(t)
	tm := startTerm(t, "shell", "start", "--config", "resources.slots=2")
	id := tm.waitFor(`\(id: ([0-9a-f-]{36})\)`, 30*time.Second)[1]
	t.Cleanup(func() { _, _ = c.Kill(ctxT(t, 10*time.Second), client.ShellKind, id) })
	tm.waitFor(`[$>] $`, startWithin)
	tm.typeIn("echo JOB=$SLURM_JOB_ID; tty; nvidia-smi >/dev/null 2>&1 || echo GPUS=$CUDA_VISIBLE_DEVICES\r")
	m := tm.waitFor(`JOB=(\d+)\s+(/dev/pts/\d+)\s+GPUS=([0-9,]+)`, 20*time.Second)
	nb, err := taskOf(ctxT(t, 10*time.Second), c, id)
	if err != nil {
		t.Fatal(err)
	}
	if m[1] != nb.SlurmJobID {
		t.Errorf("shell says job %s, the bridge says %s", m[1], nb.SlurmJobID)
	}
	if _, idx := jobGPUs(t, nb.SlurmJobID); strings.Join(idx, ",") != m[3] {
		t.Errorf("CUDA_VISIBLE_DEVICES=%s, Slurm allocated %v", m[3], idx)
	}
	if err := pty.Setsize(tm.ptmx, &pty.Winsize{Rows: 41, Cols: 123}); err != nil {
		t.Fatal(err)
	}
	// The new size travels det -> bridge -> launcher; ask the shell until
	// it has it.
	eventually(t, 20*time.Second, "the shell to see the new terminal size", func() bool {
		tm.typeIn("stty size\r")
		return tm.sees(`41 123`, 2*time.Second) != nil
	})

	tm.typeIn("~.")
	tm.waitFor(`Detached from shell`, 10*time.Second)
	if code := tm.exitCode(10 * time.Second); code != 0 {
		t.Errorf("det after detaching exited %d", code)
	}
	if nb, err := taskOf(ctxT(t, 10*time.Second), c, id); err != nil || nb.State != api.StateRunning {
		t.Fatalf("the shell did not survive the detach: %s %s", nb.State, nb.Reason)
	}

	bob := asUser(t, "bob")
	url := "ws" + strings.TrimPrefix(master, "http") + "/proxy/" + id + "/shell"
	_, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + bob.Token}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("bob opening the shell: %v %v, want 403", resp, err)
	}

	tm2 := startTerm(t, "shell", "open", id[:8])
	tm2.waitFor(`GPUS=`+regexp.QuoteMeta(m[3]), 20*time.Second) // the scrollback came back
	tm2.typeIn("exit 3\r")
	if code := tm2.exitCode(30 * time.Second); code != 3 {
		t.Errorf("det shell open exited %d, want the shell's 3", code)
	}
	nb = waitState(t, c, id, api.StateTerminated, 30*time.Second)
	if nb.ExitCode == nil || *nb.ExitCode != 3 {
		t.Errorf("task exit code %v (%s), want 3", nb.ExitCode, nb.Reason)
	}
}

// TestShellIdle: a shell nobody is attached to and that runs nothing is
// cancelled after its idle timeout; a command in the foreground keeps it.
func TestShellIdle(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	cfg := []string{"--config", "resources.slots=0", "--config", "resources.resource_pool=cpu", "--config", "idle_timeout=10s"}
	quiet := strings.TrimSpace(run(t, filepath.Join(repo, "bin", "det"), append([]string{"shell", "start", "-d"}, cfg...)...))
	t.Cleanup(func() { _, _ = c.Kill(ctxT(t, 10*time.Second), client.ShellKind, quiet) })

	tm := startTerm(t, append([]string{"shell", "start"}, cfg...)...)
	busy := tm.waitFor(`\(id: ([0-9a-f-]{36})\)`, 30*time.Second)[1]
	t.Cleanup(func() { _, _ = c.Kill(ctxT(t, 10*time.Second), client.ShellKind, busy) })
	tm.waitFor(`[$>] $`, startWithin)
	// The shell prints 42 (not the 6*7 typed) once it runs the line; the
	// sleep then holds the terminal.
	tm.typeIn("echo BUSY-$((6*7)); sleep 40\r")
	tm.waitFor(`BUSY-42`, 20*time.Second)
	tm.typeIn("~.")
	tm.waitFor(`Detached`, 10*time.Second)

	waitState(t, c, quiet, api.StateRunning, startWithin)
	began := time.Now()
	waitCancelled(t, c, quiet, began, idleTimeout+10*time.Second)
	stillRunning(t, c, busy, 10*time.Second, "a command holds the shell's terminal")
}
