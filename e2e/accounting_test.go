package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
)

// TestAccountAndQOS: the pool's account and QOS reach the job (scontrol and
// sacct), and a user over the QOS's GPU cap sees why in plain words.
func TestAccountAndQOS(t *testing.T) {
	c := cluster(t)
	if strings.Contains(runAllowFail("sacct", "-n", "-X", "-j", "1"), "accounting storage is disabled") {
		t.Fatal("the dev cluster runs without accounting; `make up` sets it up")
	}
	first := start(t, c, map[string]any{"resources": map[string]any{"slots": 2, "resource_pool": "interactive"}})
	first = waitState(t, c, first.ID, api.StateRunning, startWithin)
	job := run(t, "scontrol", "show", "job", first.SlurmJobID)
	if !strings.Contains(job, "Account=physics") || !strings.Contains(job, "QOS=interactive") {
		t.Errorf("the pool's account and QOS are not on the job:\n%s", job)
	}
	// slurmctld tells slurmdbd about the job a moment after it starts.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		acct := run(t, "sacct", "-n", "-P", "-X", "-j", first.SlurmJobID, "-o", "User,Account,QOS,AllocTRES")
		if strings.Contains(acct, "alice|physics|interactive|") && strings.Contains(acct, "gres/gpu=2") {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("sacct: %s", acct)
			break
		}
	}
	second := start(t, c, map[string]any{"resources": map[string]any{"slots": 2, "resource_pool": "interactive"}})
	deadline := time.Now().Add(20 * time.Second)
	for {
		nb, err := c.Notebook(ctxT(t, 10*time.Second), second.ID)
		if err != nil {
			t.Fatal(err)
		}
		if nb.State == api.StateQueued && nb.Reason == "QOSMaxGRESPerUser: your GPU limit under QOS interactive is reached" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("second notebook over the QOS cap: %s %q", nb.State, nb.Reason)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestWithoutAccounting: on a cluster that keeps no accounting (sacct says
// so) notebooks start, run and end all the same.
func TestWithoutAccounting(t *testing.T) {
	c := cluster(t)
	up := filepath.Join(repo, "devcluster", "up.sh")
	cmd := exec.Command("bash", up, "--no-image")
	cmd.Env = append(os.Environ(), "DEVCLUSTER_ACCOUNTING=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("switch the cluster to no accounting: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("bash", up, "--no-image").CombinedOutput(); err != nil {
			t.Errorf("switch accounting back on: %v\n%s", err, out)
		}
	})
	if out := runAllowFail("sacct", "-n", "-X", "-j", "1"); !strings.Contains(out, "accounting storage is disabled") {
		t.Fatalf("sacct still answers: %s", out)
	}
	nb := start(t, c, cpuNotebook())
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	if code, body := proxyGet(t, c, nb.ID, "api/status"); code != 200 {
		t.Errorf("through the proxy: %d %s", code, body)
	}
	if _, err := c.KillNotebook(ctxT(t, 10*time.Second), nb.ID); err != nil {
		t.Fatal(err)
	}
	if nb = waitState(t, c, nb.ID, api.StateTerminated, 20*time.Second); nb.Reason != "killed by user" {
		t.Errorf("reason %q", nb.Reason)
	}
}
