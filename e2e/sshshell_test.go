package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// shellLaunched is what Determined's CLI prints when it has launched a
// shell.
var shellLaunched = regexp.MustCompile(`Launched shell \(id: ([0-9a-f-]{36})`)

// activeJobStates are the squeue states of a job that holds its nodes.
var activeJobStates = []string{"PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED"}

// TestSSHDeterminedCLIShell: Determined's own CLI, run by POSIX alice
// logged in as bridge user alice, starts a GPU shell and runs a command in
// it over SSH through its ProxyCommand (which sends no token: the bridge
// knows alice by her socket). The command runs as alice, in the shell's
// Slurm job, with exactly the GPUs Slurm gave it; `det shell open` runs
// one there again. The line `det shell
// show_ssh_command` prints runs a command too; once `det shell kill` has
// ended the shell, the same line fails and the job is out of Slurm's
// queue.
func TestSSHDeterminedCLIShell(t *testing.T) {
	alice := asUser(t, "alice")
	u := newPosixUser(t, "alice")
	d := detCLIAs(t, u)
	d.ok("alice-password\n", "user", "login", "alice")

	out, err := d.try("", "shell", "start", "--config", "resources.slots=2", "--config", "resources.resource_pool=gpu",
		"--", `id -un; echo "job=$SLURM_JOB_ID gpus=$CUDA_VISIBLE_DEVICES"`)
	m := shellLaunched.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("det shell start printed no shell id (%v):\n%s", err, out)
	}
	id := m[1]
	t.Cleanup(func() { _, _ = alice.Kill(context.Background(), client.ShellKind, id) })
	if err != nil {
		t.Fatalf("det shell start: %v\n%s", err, out)
	}
	got, gerr := alice.Get(ctxT(t, 10*time.Second), client.ShellKind, id)
	if gerr != nil {
		t.Fatalf("GET the shell: %v", gerr)
	}
	sh := got.Task
	if got.Shell == nil || got.Shell.PrivateKey == "" || got.Shell.AgentUserGroup == nil || got.Shell.AgentUserGroup.User != "alice" {
		t.Errorf("the owner's GET /api/v1/shells/%s lacks the key or the POSIX user alice: %+v", id, got.Shell)
	}

	// Through a terminal (-tt) the lines end in \r\n.
	text := strings.ReplaceAll(out, "\r", "")
	if !regexp.MustCompile(`(?m)^alice$`).MatchString(text) {
		t.Errorf("`id -un` over SSH did not print alice:\n%s", out)
	}
	jm := regexp.MustCompile(`job=(\d*) gpus=([0-9,]*)`).FindStringSubmatch(text)
	if jm == nil {
		t.Fatalf("the command's echo is not in det shell start's output:\n%s\n%s", out, logsOf(alice, id))
	}
	if jm[1] == "" || jm[1] != sh.SlurmJobID {
		t.Errorf("over SSH SLURM_JOB_ID=%q, the bridge says the shell's job is %q", jm[1], sh.SlurmJobID)
	}
	_, idx := jobGPUs(t, sh.SlurmJobID)
	if len(idx) != 2 || jm[2] != strings.Join(idx, ",") {
		t.Errorf("over SSH CUDA_VISIBLE_DEVICES=%q; Slurm allocated %v for 2 slots", jm[2], idx)
	}

	if out, err := d.try("", "shell", "open", id, "--", "echo reopened-$SLURM_JOB_ID"); err != nil || !strings.Contains(out, "reopened-"+sh.SlurmJobID) {
		t.Errorf("det shell open %s with a command: %v\n%s", id, err, out)
	}

	printed := d.ok("", "shell", "show_ssh_command", id)
	line := parseSSHLine(t, printed)
	if line.dest != "alice@"+id {
		t.Errorf("show_ssh_command logs in as %q, want alice@%s:\n%s", line.dest, id, printed)
	}
	argv := line.asPrinted("echo ok-$SLURM_JOB_ID")
	sout, serr, err := u.run("", argv[0], argv[1:]...)
	if err != nil || !strings.Contains(sout, "ok-"+sh.SlurmJobID) {
		t.Errorf("the printed ssh line with a command: %v, want ok-%s\nstdout: %s\nstderr: %s", err, sh.SlurmJobID, sout, serr)
	}

	d.ok("", "shell", "kill", id)
	waitState(t, alice, id, api.StateTerminated, time.Minute)
	poll(t, time.Minute, "job "+sh.SlurmJobID+" to leave Slurm's queue", func() bool {
		st := jobState(t, sh.SlurmJobID)
		for _, active := range activeJobStates {
			if st == active {
				return false
			}
		}
		return true
	})
	sout, serr, err = u.run("", argv[0], argv[1:]...)
	if err == nil || strings.Contains(sout, "ok-") {
		t.Errorf("the ssh line still works after det shell kill: %v\nstdout: %s\nstderr: %s", err, sout, serr)
	}
}

// aliceShell is a running CPU shell started with our CLI by POSIX alice,
// logged in as bridge user alice, and the ssh line `det shell
// show_ssh_command` printed for it.
type aliceShell struct {
	client *client.Client // bridge user alice
	user   *posixUser
	sh     *api.Notebook
	line   sshLine
}

func startAliceShell(t *testing.T, config ...string) *aliceShell {
	t.Helper()
	alice := asUser(t, "alice")
	u := newPosixUser(t, "alice")
	u.det("alice-password\n", "user", "login", "alice")
	start := append([]string{"shell", "start", "-d", "--config", "resources.slots=0", "--config", "resources.resource_pool=cpu"}, config...)
	id := strings.TrimSpace(u.det("", start...))
	if !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(id) {
		t.Fatalf("det shell start -d printed %q, want the shell's id", id)
	}
	t.Cleanup(func() { _, _ = alice.Kill(context.Background(), client.ShellKind, id) })
	sh := waitState(t, alice, id, api.StateRunning, startWithin)
	printed := u.det("", "shell", "show_ssh_command", id)
	return &aliceShell{client: alice, user: u, sh: sh, line: parseSSHLine(t, printed)}
}

// run runs remote words on the shell as alice over ssh, without a
// terminal; the error holds what ssh printed on stderr.
func (a *aliceShell) run(remote ...string) (string, error) {
	argv := a.line.ssh(remote...)
	out, errOut, err := a.user.run("", argv[0], argv[1:]...)
	if err != nil {
		return out, fmt.Errorf("%s: %w\n%s", cmdText(argv[0], argv[1:]), err, errOut)
	}
	return out, nil
}

// ssh is run, failing the test unless the command succeeds.
func (a *aliceShell) ssh(t *testing.T, remote ...string) string {
	t.Helper()
	out, err := a.run(remote...)
	if err != nil {
		t.Fatalf("%v\nstdout: %s\n%s", err, out, logsOf(a.client, a.sh.ID))
	}
	return out
}
