package bridge

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/slurm"
)

// TestReconcileKeepsReadyFromDuringSqueue: a ready callback that lands
// while the reconciler waits on squeue is not undone by the reconciler's
// move of what it read as QUEUED to STARTING (the notebook stayed STARTING
// for good, as nothing reports ready twice).
func TestReconcileKeepsReadyFromDuringSqueue(t *testing.T) {
	h := newHarness(t)
	h.slurm.submit = func(slurm.SubmitRequest) (string, error) { return "101", nil }
	nb := h.start(nil)
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "RUNNING", Nodes: []string{"r1-gpu01-ib"}, TimeLeft: -1}
	h.slurm.duringQuery = func() { h.ready(nb.ID, "r1-gpu01-ib", 4000) }
	h.srv.reconcile(context.Background())
	h.srv.reconcile(context.Background())
	if n := h.get(nb.ID); n.State != api.StateRunning {
		t.Fatalf("state %s (%s), want RUNNING; events:\n%s", n.State, n.Reason, h.eventsOf(nb.ID))
	}
	if ev := h.eventsOf(nb.ID); strings.Contains(ev, "waiting for Jupyter") {
		t.Errorf("the reconciler recorded a start after Jupyter was ready:\n%s", ev)
	}
	if got := len(h.srv.usage.take()[nb.ResourcePool].waits); got != 1 {
		t.Errorf("starts counted %d times, want once", got)
	}
}

// TestReconcileKeepsKillFromDuringSqueue: a kill that lands while the
// reconciler waits on squeue keeps its reason; the reconciler does not end
// the task as if its job had ended on its own.
func TestReconcileKeepsKillFromDuringSqueue(t *testing.T) {
	h := newHarness(t)
	next := 100
	h.slurm.submit = func(slurm.SubmitRequest) (string, error) { next++; return strconv.Itoa(next), nil }
	nb := h.start(nil)
	h.running(nb.ID, "r1-gpu01-ib")
	h.slurm.duringQuery = func() { h.do("POST", "/api/v1/notebooks/"+nb.ID+"/kill", nil, nil, http.StatusOK) }
	h.srv.reconcile(context.Background())
	h.srv.reconcile(context.Background())
	n := h.get(nb.ID)
	if n.State != api.StateTerminated || n.Reason != reasonKilled {
		t.Fatalf("state %s reason %q, want TERMINATED %q; events:\n%s", n.State, n.Reason, reasonKilled, h.eventsOf(nb.ID))
	}
}
