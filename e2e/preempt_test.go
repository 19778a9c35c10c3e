package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
	"github.com/det-slurm/bridge/slurm"
)

// gpuNodes are the dev cluster's GPU nodes (devcluster/lib.sh), which
// partition urgent also has.
var gpuNodes = []string{"r1-gpu01-ib", "r1-gpu02-ib"}

// urgentJobs takes every GPU of the GPU nodes with jobs of partition
// urgent (PriorityTier 10), which preempt the notebooks of partition gpu
// there; the returned function cancels them (also done when the test
// ends).
func urgentJobs(t *testing.T) func() {
	t.Helper()
	var ids []string
	for _, node := range gpuNodes {
		id := strings.TrimSpace(run(t, "runuser", "-u", "alice", "--", "sbatch", "--parsable", "-p", "urgent", "-w", node,
			"--gres=gpu:a100:4", "-J", "e2e-urgent", "--output=/dev/null", "--wrap", "sleep 600"))
		ids = append(ids, id)
	}
	end := func() {
		for _, id := range ids {
			runAllowFail("scancel", id)
		}
	}
	t.Cleanup(end)
	return end
}

// jobState is the state squeue shows for a job ("" once it is gone).
func jobState(t *testing.T, id string) string {
	t.Helper()
	return strings.TrimSpace(runAllowFail("squeue", "-h", "-j", id, "-t", "all", "-o", "%T"))
}

// poll checks cond every 200 ms until it holds, and fails the test when it
// still does not after within; it returns when cond first held.
func poll(t *testing.T, within time.Duration, what string, cond func() bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after %s", what, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return time.Now()
}

var preemptedReason = regexp.MustCompile(`^preempted at \d\d:\d\d, waiting to run again$`)

// TestPreemption: jobs of partition urgent take the GPU nodes. A notebook
// of the preemptible pool, which wrote a file in its working folder, shows
// QUEUED with the preemption's reason within 2 ticks (1 s each) of Slurm
// showing its job pending again, and keeps its id, Slurm job and URL;
// when the urgent jobs end it is RUNNING again at the same /proxy/<id>/,
// a new kernel runs through it and finds the file, and the logs say that
// kernels were restarted. A notebook of pool gpu, which is not
// preemptible, ends TERMINATED with reason "preempted".
//
// Timing: the gpu partition's GraceTime is 10 s and KillWait 5 s; Slurm
// may take up to a minute more to act on the grace time's end, so the
// requeue is waited for 2 minutes. A requeued job may start again after
// cred_expire (30 s in the dev cluster), so the notebook's return is
// waited for 4 minutes.
func TestPreemption(t *testing.T) {
	c := cluster(t)
	keep := start(t, c, map[string]any{"resources": map[string]any{"slots": 1, "resource_pool": "preemptible"}})
	lose := start(t, c, map[string]any{"resources": map[string]any{"slots": 1, "resource_pool": "gpu"}})
	keep = waitState(t, c, keep.ID, api.StateRunning, startWithin)
	lose = waitState(t, c, lose.ID, api.StateRunning, startWithin)
	if out := run(t, "scontrol", "show", "job", keep.SlurmJobID); !strings.Contains(out, "Requeue=1") {
		t.Errorf("the preemptible pool's job is not requeueable:\n%s", out)
	}
	if out := run(t, "scontrol", "show", "job", lose.SlurmJobID); !strings.Contains(out, "Requeue=0") {
		t.Errorf("pool gpu's job is requeueable:\n%s", out)
	}
	marker := fmt.Sprintf("written before the preemption, %d", time.Now().UnixNano())
	k := openKernel(t, c, keep.ID)
	k.exec(fmt.Sprintf(`open("/run/determined/workdir/preempt-check.txt", "w").write(%q)`, marker))
	k.conn.Close()
	hostFile := filepath.Join(state, "jobs", "alice", keep.ID, "workdir", "preempt-check.txt")
	if data, err := os.ReadFile(hostFile); err != nil || string(data) != marker {
		t.Fatalf("the file is not in the working folder %s: %q %v", hostFile, data, err)
	}

	endUrgent := urgentJobs(t)
	pendingAt := poll(t, 2*time.Minute, "Slurm to requeue the preemptible notebook's job", func() bool {
		st := jobState(t, keep.SlurmJobID)
		return st == "PENDING" || st == "REQUEUED"
	})
	var nb *api.Notebook
	for {
		got, err := c.Notebook(ctxT(t, 10*time.Second), keep.ID)
		if err != nil {
			t.Fatal(err)
		}
		nb = got
		if nb.State == api.StateQueued && preemptedReason.MatchString(nb.Reason) {
			break
		}
		if time.Since(pendingAt) > 3*time.Second {
			t.Fatalf("3 s after Slurm showed the job pending, the notebook is %s (%q), want QUEUED (preempted at HH:MM, waiting to run again)\n%s",
				nb.State, nb.Reason, logsOf(c, keep.ID))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("QUEUED (%s) %s after Slurm showed the job pending", nb.Reason, time.Since(pendingAt).Round(time.Millisecond))
	if nb.SlurmJobID != keep.SlurmJobID || nb.ServiceAddress != "/proxy/"+keep.ID+"/" || nb.Restarts != 1 || nb.Username != keep.Username {
		t.Errorf("the preempted notebook changed: %+v (was %+v)", nb, keep)
	}
	if list := run(t, filepath.Join(repo, "bin", "det"), "notebook", "list"); !strings.Contains(list, "QUEUED (preempted at ") {
		t.Errorf("det notebook list does not show the preemption:\n%s", list)
	}
	if code, _ := proxyGet(t, c, keep.ID, "api/status"); code == http.StatusOK {
		t.Errorf("a preempted notebook still answers through the proxy")
	}
	logs := logsOf(c, keep.ID)
	for _, want := range []string{"preempted by Slurm at", "their memory is gone", "preempted: Slurm"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the preempted notebook's logs lack %q:\n%s", want, logs)
		}
	}

	lost := waitState(t, c, lose.ID, api.StateTerminated, 2*time.Minute)
	if lost.Reason != "preempted" {
		t.Errorf("the notebook of the pool that is not preemptible ended with %q, want preempted", lost.Reason)
	}

	endUrgent()
	back := waitState(t, c, keep.ID, api.StateRunning, 4*time.Minute)
	if back.SlurmJobID != keep.SlurmJobID || back.ServiceAddress != keep.ServiceAddress || back.Restarts != 1 ||
		!strings.Contains(back.Reason, "kernels were restarted and their memory is gone") {
		t.Errorf("back: %+v", back)
	}
	if code, body := proxyGet(t, c, keep.ID, "api/status"); code != http.StatusOK {
		t.Fatalf("the notebook does not answer at /proxy/%s/ after its return: %d %s", keep.ID, code, body)
	}
	k = openKernel(t, c, keep.ID)
	if got := k.exec(`print(open("/run/determined/workdir/preempt-check.txt").read(), end="")`); got != marker {
		t.Errorf("the file written before the preemption reads %q after it, want %q", got, marker)
	}
	if out := run(t, "scontrol", "show", "job", keep.SlurmJobID); !strings.Contains(out, "Restarts=1") {
		t.Errorf("Slurm does not count the restart:\n%s", out)
	}
	if logs := logsOf(c, keep.ID); !strings.Contains(logs, "running again on") || !strings.Contains(logs, "Slurm requeued this job (restart 1)") {
		t.Errorf("the logs do not tell the return:\n%s", logs)
	}
}

// limitOf is a job's time limit as squeue shows it (%l).
func limitOf(t *testing.T, jobID string) time.Duration {
	t.Helper()
	out := strings.TrimSpace(run(t, "squeue", "-h", "-j", jobID, "-o", "%l"))
	d := slurm.ParseTimeLeft(out)
	if d < 0 {
		t.Fatalf("squeue shows job %s's time limit as %q", jobID, out)
	}
	return d
}

// remaining waits until the API shows a notebook's time remaining and
// returns it.
func remaining(t *testing.T, c *client.Client, id string) int64 {
	t.Helper()
	var left int64
	eventually(t, 10*time.Second, "the API to show the time remaining", func() bool {
		nb, err := c.Notebook(ctxT(t, 10*time.Second), id)
		if err != nil || nb.TimeRemainingSeconds == nil {
			return false
		}
		left = *nb.TimeRemainingSeconds
		return true
	})
	return left
}

// TestExtend: on pool cpu (max_walltime 2:00:00, max_extensions 2) a
// notebook with a 10-minute limit is extended with `det notebook extend`:
// by 5m, Slurm's limit becomes 15 minutes and the API's time remaining
// grows by about as much; by 2h more is refused naming max_walltime, by 1m
// passes (16 minutes), and a third extension is refused naming
// max_extensions, each refusal leaving Slurm's limit as it was; bob
// cannot extend alice's notebook at all. Nothing here waits for Slurm but
// the start.
func TestExtend(t *testing.T) {
	c := cluster(t)
	nb := start(t, c, map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu"},
		"slurm": map[string]any{"sbatch_args": []any{"--time=10"}}})
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	if l := limitOf(t, nb.SlurmJobID); l != 10*time.Minute {
		t.Fatalf("time limit %s before any extension, want 10m", l)
	}
	before := remaining(t, c, nb.ID)
	det := filepath.Join(repo, "bin", "det")
	if out := run(t, det, "notebook", "extend", nb.ID[:8], "--by", "5m"); !strings.Contains(out, "its time limit is now 15m") {
		t.Errorf("det notebook extend printed:\n%s", out)
	}
	if l := limitOf(t, nb.SlurmJobID); l != 15*time.Minute {
		t.Fatalf("Slurm's time limit after +5m: %s, want 15m", l)
	}
	got, err := c.Notebook(ctxT(t, 10*time.Second), nb.ID)
	if err != nil || got.TimeRemainingSeconds == nil || *got.TimeRemainingSeconds < before+240 || got.Extensions != 1 {
		t.Fatalf("the API's time remaining did not grow by about 5 minutes from %d s: %+v %v", before, got, err)
	}
	if list := run(t, det, "notebook", "list"); !strings.Contains(list, nb.ID) {
		t.Errorf("det notebook list:\n%s", list)
	}

	refused := func(by, rule string, limit time.Duration) {
		t.Helper()
		out := runAllowFail(det, "notebook", "extend", nb.ID, "--by", by)
		if !strings.Contains(out, rule+": ") || strings.Contains(out, "Extended") {
			t.Errorf("extend by %s: want a refusal naming %s, got:\n%s", by, rule, out)
		}
		if l := limitOf(t, nb.SlurmJobID); l != limit {
			t.Errorf("a refused extension (by %s) changed Slurm's limit to %s", by, l)
		}
	}
	refused("2h", "max_walltime", 15*time.Minute)
	run(t, det, "notebook", "extend", nb.ID, "--by", "1m")
	if l := limitOf(t, nb.SlurmJobID); l != 16*time.Minute {
		t.Fatalf("Slurm's time limit after +1m: %s, want 16m", l)
	}
	refused("1m", "max_extensions", 16*time.Minute)

	bob := asUser(t, "bob")
	_, _, err = bob.Extend(ctxT(t, 30*time.Second), client.NotebookKind, nb.ID, "5m")
	var ae *client.APIError
	if !errors.As(err, &ae) || (ae.Status != http.StatusForbidden && ae.Status != http.StatusNotFound) {
		t.Errorf("bob extending alice's notebook: %v, want 403 or 404", err)
	}
	if l := limitOf(t, nb.SlurmJobID); l != 16*time.Minute {
		t.Errorf("bob's refused extension changed Slurm's limit to %s", l)
	}
}

// TestRelaunch: a notebook started with a context folder is killed and
// relaunched with `det notebook relaunch`, which waits for it and prints
// its address: it has a new id, is RUNNING, names the one it replaces,
// `det notebook config` of both prints the same, and a kernel finds the
// context file in its working folder.
func TestRelaunch(t *testing.T) {
	c := cluster(t)
	ctxDir := t.TempDir()
	content := fmt.Sprintf("context for the relaunch %d", time.Now().UnixNano())
	if err := os.WriteFile(filepath.Join(ctxDir, "ctx-data.txt"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	id, _ := startCLI(t, c, "-c", ctxDir, "--config", "resources.slots=0", "--config", "resources.resource_pool=cpu", "--config", "idle_timeout=2h")
	waitState(t, c, id, api.StateRunning, startWithin)
	det := filepath.Join(repo, "bin", "det")
	run(t, det, "notebook", "kill", id)
	waitState(t, c, id, api.StateTerminated, time.Minute)

	out := runAllowFail(det, "notebook", "relaunch", id[:8], "--no-browser")
	m := regexp.MustCompile(`\(id: ([0-9a-f-]{36})\), which replaces ` + id).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("det notebook relaunch printed no new id replacing %s:\n%s", id, out)
	}
	newID := m[1]
	t.Cleanup(func() { _, _ = c.KillNotebook(context.Background(), newID) })
	if !strings.Contains(out, "Jupyter Notebook is running at: "+master+"/proxy/"+newID+"/") {
		t.Errorf("det notebook relaunch printed:\n%s", out)
	}
	nb := waitState(t, c, newID, api.StateRunning, startWithin)
	if nb.ID == id || nb.Replaces != id {
		t.Errorf("relaunched %+v", nb)
	}
	if a, b := run(t, det, "notebook", "config", id), run(t, det, "notebook", "config", newID); a != b {
		t.Errorf("det notebook config differs:\n%s\n---\n%s", a, b)
	}
	k := openKernel(t, c, newID)
	if got := k.exec(`print(open("/run/determined/workdir/ctx-data.txt").read(), end="")`); got != content {
		t.Errorf("the context file reads %q in the relaunched notebook, want %q", got, content)
	}
	if logs := logsOf(c, newID); !strings.Contains(logs, "relaunch of notebook "+id) {
		t.Errorf("the new notebook's logs do not name the one it replaces:\n%s", logs)
	}
}
