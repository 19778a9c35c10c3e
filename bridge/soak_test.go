package bridge

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/slurm"
)

// memory is what the bridge keeps in memory per task.
type memory struct {
	warned, cancelled, reports, abandoned, submitting, ended, routes int
}

func (h *harness) memory(ids []string) memory {
	var m memory
	m.warned, m.cancelled = h.srv.view.sizes()
	m.reports = h.srv.reports.size()
	m.abandoned = h.srv.abandoned.size()
	m.submitting = h.srv.submitting.size()
	m.ended = h.srv.ended.size()
	for _, id := range ids {
		if _, ok := h.srv.routes.Get(id); ok {
			m.routes++
		}
	}
	return m
}

// soakBatch runs n short notebooks from submit to TERMINATED: every tenth
// submit meets a controller that does not answer, the others start, report
// ready and beat, get a walltime warning, and then half are killed and
// half complete. It returns the ids of the tasks started.
func soakBatch(t *testing.T, h *harness, n int) []string {
	t.Helper()
	ctx := context.Background()
	queue := h.slurm.submit
	timedOut := func(slurm.SubmitRequest) (string, error) {
		return "", &slurm.CommandError{Cmd: "sbatch", Stderr: "sbatch: error: Batch job submission failed: Socket timed out on send/recv operation", Err: errors.New("exit 1")}
	}
	var ids []string
	for i := 0; i < n; i++ {
		if i%10 == 9 {
			h.slurm.submit = timedOut
			if w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{Config: map[string]any{}}, nil); w.Code != http.StatusServiceUnavailable {
				t.Fatalf("submit during an outage: %d %s", w.Code, w.Body)
			}
			h.slurm.submit = queue
		}
		ids = append(ids, h.start(map[string]any{}).ID)
	}
	for id, j := range h.slurm.jobs {
		j.State, j.Nodes, j.TimeLeft = "RUNNING", []string{"gpu1"}, 5*time.Minute
		h.slurm.jobs[id] = j
	}
	h.srv.reconcile(ctx)
	tok := h.token
	h.token = ""
	for _, id := range ids {
		task, err := h.srv.store.GetTask(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		secret := map[string]string{jobspec.SecretHeader: task.Secret}
		if w := h.req("POST", "/api/v1/tasks/"+id+"/ready", jobspec.ReadyRequest{Node: "gpu1", Port: 4000}, secret); w.Code != http.StatusNoContent {
			t.Fatalf("ready: %d %s", w.Code, w.Body)
		}
		if w := h.req("POST", "/api/v1/tasks/"+id+"/heartbeat", jobspec.JupyterReport{}, secret); w.Code != http.StatusNoContent {
			t.Fatalf("heartbeat: %d %s", w.Code, w.Body)
		}
	}
	h.token = tok
	for i, id := range ids {
		if i%2 == 0 {
			h.do("POST", "/api/v1/notebooks/"+id+"/kill", nil, nil, http.StatusOK)
		}
	}
	for id, j := range h.slurm.jobs {
		j.State = "COMPLETED"
		h.slurm.jobs[id] = j
	}
	h.srv.reconcile(ctx)
	h.slurm.jobs = map[string]slurm.Job{} // Slurm forgets finished jobs
	h.srv.sweepOrphans(ctx)
	live, err := h.srv.store.LiveTasks(ctx)
	if err != nil || len(live) != 0 {
		t.Fatalf("%d tasks still live after the batch (%v)", len(live), err)
	}
	return ids
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestSoakForgets: 2,000 short notebooks run through the fake Slurm; what
// the bridge keeps per task stays within one batch of tasks while they
// run, is empty once they have ended (the routes of ended tasks once
// routeKeep has passed), and the heap is flat.
func TestSoakForgets(t *testing.T) {
	h := newHarness(t)
	queueJobs(h)
	h.srv.prove = func(context.Context, string, int, string, string) error { return nil }
	const batch, total = 100, 2000
	soakBatch(t, h, batch) // warm up caches and pools before measuring
	h.srv.forgetEnded(nil, time.Now().Add(routeKeep))
	before := heapInUse()
	var all []string
	for done := 0; done < total; done += batch {
		ids := soakBatch(t, h, batch)
		all = append(all, ids...)
		m := h.memory(nil)
		if m.warned+m.cancelled+m.reports+m.submitting != 0 || m.abandoned > batch || m.ended > done+batch {
			t.Fatalf("after %d notebooks: %+v", done+batch, m)
		}
	}
	for i := 0; i < abandonSweeps; i++ {
		h.srv.sweepOrphans(context.Background())
	}
	if m := h.memory(all); m.routes != len(all) || m.ended != len(all) {
		t.Fatalf("routes of ended tasks must be kept for a while: %+v of %d", m, len(all))
	}
	kept := heapInUse()
	h.srv.forgetEnded(nil, time.Now().Add(routeKeep))
	if m := h.memory(all); m != (memory{}) {
		t.Fatalf("after %d notebooks the bridge still keeps %+v", len(all), m)
	}
	after := heapInUse()
	t.Logf("heap: %d KiB before, %d KiB after %d notebooks (%d KiB with their routes)", before>>10, after>>10, len(all), kept>>10)
	if after > before+2<<20 {
		t.Fatalf("the heap grew from %d KiB to %d KiB over %d notebooks", before>>10, after>>10, len(all))
	}
}

// Sizes of what the bridge keeps, for the tests.

func (e *endedRoutes) size() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.q)
}

func (r *reports) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}

// sizes returns how many tasks the view keeps walltime warnings and
// cancels for.
func (v *slurmView) sizes() (warned, cancelled int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.warned), len(v.cancelled)
}

func (a *abandoned) size() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ids)
}

func (f *inflight) size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}
