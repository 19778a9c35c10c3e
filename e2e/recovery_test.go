package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/det-slurm/bridge/api"
)

func cpuNotebook() map[string]any {
	return map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu"}}
}

// directNotebook is a CPU notebook in the pool whose jobs hold a port on
// their node (proxy_mode direct), whatever the site's default mode.
func directNotebook() map[string]any {
	return map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu-direct"}}
}

func pidOf(t *testing.T, name string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(state, "run", name+".pid"))
	if err != nil {
		t.Fatalf("read %s pid: %v", name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestBridgeRestart: kill -9 of the bridge loses nothing; after a restart
// every notebook answers through the proxy at once and none was resubmitted.
func TestBridgeRestart(t *testing.T) {
	c := cluster(t)
	var nbs []*api.Notebook
	for i := 0; i < 3; i++ {
		nbs = append(nbs, start(t, c, cpuNotebook()))
	}
	for i, nb := range nbs {
		nbs[i] = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	}
	before := strings.Count(run(t, "squeue", "-h", "-o", "%j"), "det-notebook-")
	pid := pidOf(t, "bridge")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitExited(t, pid, 10*time.Second)
	began := time.Now()
	startBridge(t)
	for _, nb := range nbs {
		for {
			code, body := proxyGet(t, c, nb.ID, "api/status")
			if code == http.StatusOK {
				break
			}
			if time.Since(began) > 3*time.Second {
				t.Fatalf("notebook %s answers %d %s %s after the restart", nb.ID, code, body, time.Since(began))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("all three notebooks answered %s after the restart began", time.Since(began).Round(time.Millisecond))
	for _, nb := range nbs {
		got, err := c.Notebook(ctxT(t, 10*time.Second), nb.ID)
		if err != nil || got.State != api.StateRunning || got.SlurmJobID != nb.SlurmJobID {
			t.Errorf("after restart: %+v %v (job was %s)", got, err, nb.SlurmJobID)
		}
	}
	if after := strings.Count(run(t, "squeue", "-h", "-o", "%j"), "det-notebook-"); after != before {
		t.Errorf("bridge jobs in squeue: %d before, %d after the restart", before, after)
	}
}

// TestControllerOutage: with slurmctld stopped, nothing is marked
// TERMINATED, the view is flagged stale, and a kill asked for meanwhile is
// carried out once the controller is back.
func TestControllerOutage(t *testing.T) {
	c := cluster(t)
	keep := start(t, c, cpuNotebook())
	victim := start(t, c, cpuNotebook())
	keep = waitState(t, c, keep.ID, api.StateRunning, startWithin)
	victim = waitState(t, c, victim.ID, api.StateRunning, startWithin)
	if err := syscall.Kill(pidOf(t, "slurmctld"), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	restarted := false
	restart := func() {
		if !restarted {
			restarted = true
			run(t, "bash", filepath.Join(repo, "devcluster", "up.sh"))
		}
	}
	t.Cleanup(restart)
	var m *api.Master
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		var err error
		if m, err = c.MasterInfo(ctxT(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if m.Slurm != nil && m.Slurm.Stale && m.Slurm.Error != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /api/v1/master shows no stale view 10 s into the outage: %+v", *m)
		}
	}
	if out := runAllowFail(filepath.Join(repo, "bin", "det"), "notebook", "list"); !strings.Contains(out, "cannot reach Slurm") {
		t.Errorf("det notebook list does not warn of the outage:\n%s", out)
	}
	if _, err := c.KillNotebook(ctxT(t, 30*time.Second), victim.ID); err != nil {
		t.Errorf("kill during the outage: %v", err)
	}
	end := time.Now().Add(27 * time.Second)
	for time.Now().Before(end) {
		for _, id := range []string{keep.ID, victim.ID} {
			nb, err := c.Notebook(ctxT(t, 10*time.Second), id)
			if err != nil {
				t.Fatal(err)
			}
			if nb.State == api.StateTerminated {
				t.Fatalf("notebook %s marked TERMINATED (%s) while Slurm could not be asked", id, nb.Reason)
			}
		}
		time.Sleep(time.Second)
	}
	restart()
	waitState(t, c, victim.ID, api.StateTerminated, 45*time.Second)
	nb, err := c.Notebook(ctxT(t, 10*time.Second), keep.ID)
	if err != nil || nb.State != api.StateRunning {
		t.Errorf("the other notebook after the outage: %+v %v", nb, err)
	}
	if code, body := proxyGet(t, c, keep.ID, "api/status"); code != http.StatusOK {
		t.Errorf("the other notebook does not answer: %d %s", code, body)
	}
	if out := run(t, "squeue", "-h", "-j", victim.SlurmJobID, "-t", "PENDING,RUNNING"); strings.TrimSpace(out) != "" {
		t.Errorf("the notebook killed during the outage still runs: %s", out)
	}
	if m, err := c.MasterInfo(ctxT(t, 10*time.Second)); err != nil || m.Slurm == nil || m.Slurm.Stale {
		t.Errorf("still stale after the controller came back: %+v %v", m, err)
	}
}

// TestScancelOutside: a job cancelled with plain scancel is TERMINATED
// with its reason within two ticks.
func TestScancelOutside(t *testing.T) {
	c := cluster(t)
	nb := start(t, c, cpuNotebook())
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	run(t, "scancel", nb.SlurmJobID)
	began := time.Now()
	nb = waitState(t, c, nb.ID, api.StateTerminated, 10*time.Second)
	if took := time.Since(began); took > 2*time.Second+time.Second {
		t.Errorf("took %s to notice", took)
	}
	if nb.Reason != "cancelled outside the bridge" {
		t.Errorf("reason %q", nb.Reason)
	}
}

// TestWalltime: --time=1 becomes the job's limit, the API shows the time
// remaining, and the end is reported as "time limit".
func TestWalltime(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	nb := start(t, c, map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu"},
		"slurm": map[string]any{"sbatch_args": []any{"--time=1"}}})
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	eventually(t, 10*time.Second, "the API to show the time remaining", func() bool {
		got, err := c.Notebook(ctxT(t, 10*time.Second), nb.ID)
		if err == nil {
			nb = got
		}
		return err == nil && nb.TimeRemainingSeconds != nil
	})
	if *nb.TimeRemainingSeconds > 60 || *nb.TimeRemainingSeconds < 30 {
		t.Errorf("time remaining %v", nb.TimeRemainingSeconds)
	}
	nb = waitState(t, c, nb.ID, api.StateTerminated, 2*time.Minute)
	if nb.Reason != "time limit" {
		t.Errorf("reason %q, want time limit", nb.Reason)
	}
	if logs := logsOf(c, nb.ID); !strings.Contains(logs, "time limit ends in") {
		t.Errorf("no walltime warning in the logs:\n%s", logs)
	}
}

// blockGPUs fills every GPU with plain jobs for the test's length.
func blockGPUs(t *testing.T) {
	t.Helper()
	for i := 0; i < 2; i++ {
		id := strings.TrimSpace(run(t, "runuser", "-u", "alice", "--", "sbatch", "--parsable", "-p", "gpu",
			"--gres=gpu:a100:4", "-J", "e2e-blocker", "--output=/dev/null", "--wrap", "sleep 600"))
		t.Cleanup(func() { runAllowFail("scancel", id) })
	}
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(run(t, "squeue", "-h", "-n", "e2e-blocker", "-t", "RUNNING", "-o", "%i"), "\n") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the blocker jobs did not start")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rpcCount sums sdiag's counts of the job-info RPCs (what squeue sends).
func rpcCount(t *testing.T) int {
	out := run(t, "sdiag")
	total := 0
	for _, m := range regexp.MustCompile(`(?m)^\s*(REQUEST_JOB_INFO\S*)\s+\(\s*\d+\)\s+count:\s*(\d+)`).FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		total += n
	}
	return total
}

// TestQueueTransparencyAndOneQueryPerTick: notebooks that cannot get GPUs
// show QUEUED with Slurm's reason; with 20 of them the bridge still sends
// one squeue per tick.
func TestQueueTransparencyAndOneQueryPerTick(t *testing.T) {
	c := cluster(t)
	blockGPUs(t)
	var ids []string
	for i := 0; i < 20; i++ {
		nb := start(t, c, map[string]any{"resources": map[string]any{"slots": 4}})
		ids = append(ids, nb.ID)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		nb, err := c.Notebook(ctxT(t, 10*time.Second), ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if nb.State == api.StateQueued && strings.HasPrefix(nb.Reason, "Resources") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("notebook %s: %s %q, want QUEUED (Resources)", nb.ID, nb.State, nb.Reason)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if list := run(t, filepath.Join(repo, "bin", "det"), "notebook", "list"); !strings.Contains(list, "QUEUED (Resources") {
		t.Errorf("det notebook list does not show the reason:\n%s", list)
	}
	run(t, "sdiag", "-r")
	// Not a wait for something: the RPCs are counted over a fixed window.
	const window = 10 * time.Second
	time.Sleep(window)
	n := rpcCount(t)
	t.Logf("job-info RPCs in %s with %d notebooks: %d", window, len(ids), n)
	if n > int(window/time.Second)+3 {
		t.Errorf("%d job-info RPCs in %s with a 1 s tick: more than one squeue per tick", n, window)
	}
	if n == 0 {
		t.Errorf("no job-info RPCs at all: the reconciler is not running")
	}
	for _, id := range ids {
		_, _ = c.KillNotebook(context.Background(), id)
	}
}

// TestOrphans: a job with a bridge job name but no task is listed by
// `det-bridge orphans` and cancelled with --cancel.
func TestOrphans(t *testing.T) {
	cluster(t)
	name := "det-notebook-" + uuid.NewString()
	id := strings.TrimSpace(run(t, "runuser", "-u", "alice", "--", "sbatch", "--parsable", "-p", "cpu", "-J", name, "--output=/dev/null", "--wrap", "sleep 300"))
	t.Cleanup(func() { runAllowFail("scancel", id) })
	bridgeBin := filepath.Join(repo, "bin", "det-bridge")
	cfg := filepath.Join(repo, "site-configs", "devcluster.yaml")
	if out := run(t, bridgeBin, "orphans", "--config", cfg); !strings.Contains(out, id) || !strings.Contains(out, name) {
		t.Fatalf("det-bridge orphans does not list job %s:\n%s", id, out)
	}
	run(t, bridgeBin, "orphans", "--config", cfg, "--cancel")
	deadline := time.Now().Add(10 * time.Second)
	for strings.TrimSpace(run(t, "squeue", "-h", "-j", id, "-t", "PENDING,RUNNING")) != "" {
		if time.Now().After(deadline) {
			t.Fatalf("orphan job %s still in the queue", id)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
