package e2e

import (
	"strconv"
	"testing"
	"time"
)

// TestSSHShellIdle: a shell with an SSH connection open (here one that
// only holds a forward, never used, as ssh -N -L to a TensorBoard does
// between page loads) is in use, and outlives its idle_timeout; once the
// connection ends, the shell is cancelled for idleness like a notebook.
func TestSSHShellIdle(t *testing.T) {
	t.Parallel()
	cluster(t)
	const idle = 20 * time.Second
	a := startAliceShell(t, "--config", "idle_timeout="+idle.String())
	fwd := holdForward(t, a.user, a.line.forward(strconv.Itoa(freePort(t))+":127.0.0.1:9", ""))
	stillRunning(t, a.client, a.sh.ID, idle+15*time.Second, "an SSH connection is open")
	if ended, said := fwd.state(); ended {
		t.Fatalf("ssh -N -L ended by itself: %s", said)
	}
	fwd.stop()
	// The idle time counts from the end of the connection.
	if took := waitCancelled(t, a.client, a.sh.ID, time.Now(), idle+15*time.Second); took < idle-time.Second {
		t.Errorf("cancelled %s after the SSH connection ended; its idle_timeout is %s", took.Round(time.Second), idle)
	}
}
