package bridge

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/slurm"
)

// preemptible makes pool name of the harness preemptible.
func (h *harness) preemptible(name string) {
	p, ok := h.srv.cfg.Pool(name)
	if !ok {
		h.t.Fatalf("no pool %s", name)
	}
	p.Preemptible = true
}

// ready sends a ready callback for task id from node and port.
func (h *harness) ready(id, node string, port int) {
	h.t.Helper()
	task, err := h.srv.store.GetTask(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	h.srv.prove = func(context.Context, string, int, string, string) error { return nil }
	tok := h.token
	h.token = ""
	defer func() { h.token = tok }()
	w := h.req("POST", "/api/v1/tasks/"+id+"/ready", jobspec.ReadyRequest{Node: node, Port: port}, map[string]string{jobspec.SecretHeader: task.Secret})
	if w.Code != http.StatusNoContent {
		h.t.Fatalf("ready callback of %s: %d %s", id, w.Code, w.Body)
	}
}

func (h *harness) eventsOf(id string) string {
	h.t.Helper()
	evs, err := h.srv.store.Events(context.Background(), id, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.Message + "\n")
	}
	return b.String()
}

// TestSbatchPreemptionPolicy: a preemptible pool's jobs are requeued,
// append their output and get the warning signal; other pools' jobs are
// never requeued.
func TestSbatchPreemptionPolicy(t *testing.T) {
	h := newHarness(t)
	h.preemptible("gpu")
	var got slurm.SubmitRequest
	h.slurm.submit = func(r slurm.SubmitRequest) (string, error) { got = r; return "7", nil }
	h.start(map[string]any{"resources": map[string]any{"slots": 1}})
	args := strings.Join(got.Args, " ")
	for _, w := range []string{"--requeue", "--open-mode=append", "--signal=B:USR1@60"} {
		if !strings.Contains(args, w) {
			t.Errorf("preemptible pool: sbatch args %q lack %q", args, w)
		}
	}
	if strings.Contains(args, "--no-requeue") {
		t.Errorf("preemptible pool: %q", args)
	}
	h.start(map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu"}})
	if args := strings.Join(got.Args, " "); !strings.Contains(args, "--no-requeue") || strings.Contains(args, " --requeue") {
		t.Errorf("other pool: sbatch args %q", args)
	}
	w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{Config: map[string]any{"slurm": map[string]any{"sbatch_args": []any{"--no-requeue"}}}}, nil)
	if w.Code != http.StatusBadRequest || !strings.Contains(errorOf(w.Body.Bytes()), "--no-requeue") {
		t.Errorf("a user's --no-requeue: %d %s", w.Code, w.Body)
	}
}

// TestPreemptedComesBack: a running notebook whose job Slurm requeues is
// QUEUED with the preemption's reason, keeps it while it waits, routes
// nothing, and when the job runs again the route follows the new port and
// the reason says the kernels were restarted.
func TestPreemptedComesBack(t *testing.T) {
	h := newHarness(t)
	h.preemptible("gpu")
	nb := h.start(nil)
	h.running(nb.ID, "r1-gpu01-ib")
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "PENDING", Reason: "BeginTime", TimeLeft: -1}
	h.srv.reconcile(context.Background())
	n := h.get(nb.ID)
	if n.State != api.StateQueued || !strings.HasPrefix(n.Reason, "preempted at ") || !strings.HasSuffix(n.Reason, ", waiting to run again") ||
		n.Restarts != 1 || n.PreemptedTime == nil || n.Node != "" || n.SlurmJobID != "101" || n.ServiceAddress != "/proxy/"+nb.ID+"/" {
		t.Fatalf("after the requeue: %+v", n)
	}
	if r, _ := h.srv.Routes().Get(nb.ID); r.Target != nil {
		t.Fatalf("a preempted notebook is still routed: %+v", r)
	}
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "PENDING", Reason: "Resources", TimeLeft: -1}
	h.srv.reconcile(context.Background())
	if m := h.get(nb.ID); m.Reason != n.Reason {
		t.Fatalf("the preemption's reason changed while waiting: %q", m.Reason)
	}
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "RUNNING", Nodes: []string{"r1-gpu01-ib"}, TimeLeft: -1}
	h.srv.reconcile(context.Background())
	if m := h.get(nb.ID); m.State != api.StateStarting || m.Node != "r1-gpu01-ib" {
		t.Fatalf("running again: %+v", m)
	}
	h.ready(nb.ID, "r1-gpu01-ib", 4001)
	m := h.get(nb.ID)
	if m.State != api.StateRunning || !strings.Contains(m.Reason, "kernels were restarted and their memory is gone") || m.Restarts != 1 {
		t.Fatalf("ready again: %+v", m)
	}
	if r, _ := h.srv.Routes().Get(nb.ID); r.Target == nil || r.Target.Host != "10.0.0.1:4001" {
		t.Fatalf("the route does not follow the new run: %+v", r)
	}
	ev := h.eventsOf(nb.ID)
	for _, want := range []string{"preempted by Slurm at", "kernels are restarted and their memory is gone", "running again on r1-gpu01-ib after the preemption"} {
		if !strings.Contains(ev, want) {
			t.Errorf("events lack %q:\n%s", want, ev)
		}
	}
}

// TestRestartNotSeen: a ready callback from a new port while the task is
// RUNNING (the bridge missed the requeue) counts a restart and moves the
// route; a repeated callback from the same port does not.
func TestRestartNotSeen(t *testing.T) {
	h := newHarness(t)
	nb := h.start(nil)
	h.running(nb.ID, "r1-gpu01-ib")
	h.ready(nb.ID, "r1-gpu01-ib", 4000)
	if n := h.get(nb.ID); n.Restarts != 0 || n.Reason != "" {
		t.Fatalf("a repeated ready counted a restart: %+v", n)
	}
	h.ready(nb.ID, "r1-gpu01-ib", 4002)
	n := h.get(nb.ID)
	if n.Restarts != 1 || n.State != api.StateRunning || !strings.Contains(n.Reason, "kernels were restarted") {
		t.Fatalf("%+v", n)
	}
	if r, _ := h.srv.Routes().Get(nb.ID); r.Target == nil || r.Target.Host != "10.0.0.1:4002" {
		t.Fatalf("route %+v", r)
	}
	if ev := h.eventsOf(nb.ID); !strings.Contains(ev, "while the bridge was not watching") {
		t.Errorf("events:\n%s", ev)
	}
}

// TestPreemptedNotRequeued: a job Slurm preempted and cancelled ends its
// task with reason "preempted"; in a preemptible pool, PREEMPTED is only a
// step on the way back to the queue.
func TestPreemptedNotRequeued(t *testing.T) {
	h := newHarness(t)
	h.preemptible("cpu")
	cpu := h.start(map[string]any{"resources": map[string]any{"slots": 0}})
	h.running(cpu.ID, "cpu1")
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "PREEMPTED"}
	h.srv.reconcile(context.Background())
	if n := h.get(cpu.ID); n.State != api.StateRunning {
		t.Fatalf("a preemptible pool's PREEMPTED job ended its task: %+v", n)
	}
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "PENDING", Reason: "BeginTime"}
	h.srv.reconcile(context.Background())
	if n := h.get(cpu.ID); n.State != api.StateQueued || n.Restarts != 1 {
		t.Fatalf("requeued after PREEMPTED: %+v", n)
	}

	h.slurm.submit = func(slurm.SubmitRequest) (string, error) { return "102", nil }
	nb := h.start(nil)
	h.running(nb.ID, "r1-gpu01-ib")
	h.slurm.jobs["102"] = slurm.Job{ID: "102", State: "COMPLETING"}
	h.srv.reconcile(context.Background())
	if n := h.get(nb.ID); n.State != api.StateRunning {
		t.Fatalf("completing: %+v", n)
	}
	h.slurm.jobs["102"] = slurm.Job{ID: "102", State: "PREEMPTED"}
	h.srv.reconcile(context.Background())
	if n := h.get(nb.ID); n.State != api.StateTerminated || n.Reason != "preempted" {
		t.Fatalf("preempted: %+v", n)
	}
}

// TestEndMovesEarlier: the walltime warning is given once; a limit
// raised past it lets it come again before the new end; an end that comes
// earlier (a preemption's grace time) is told once, without the warning.
func TestEndMovesEarlier(t *testing.T) {
	h := newHarness(t)
	nb := h.start(nil)
	h.running(nb.ID, "r1-gpu01-ib")
	tick := func(left time.Duration) {
		h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "RUNNING", Nodes: []string{"r1-gpu01-ib"}, TimeLeft: left}
		h.srv.reconcile(context.Background())
	}
	tick(5 * time.Minute)
	tick(5*time.Minute - time.Second)
	if ev := h.eventsOf(nb.ID); strings.Count(ev, "time limit ends in") != 1 || strings.Contains(ev, "earlier") {
		t.Fatalf("events:\n%s", ev)
	}
	tick(time.Hour) // raised
	h.srv.view.mu.Lock()
	warned := h.srv.view.warned[nb.ID]
	h.srv.view.mu.Unlock()
	if warned {
		t.Fatal("a raised limit keeps the old warning: it would not come again before the new end")
	}
	tick(30 * time.Second)
	tick(29 * time.Second)
	ev := h.eventsOf(nb.ID)
	if strings.Count(ev, "Slurm moved the job's end earlier") != 1 || strings.Count(ev, "time limit ends in") != 1 {
		t.Fatalf("events after the end moved:\n%s", ev)
	}
}
