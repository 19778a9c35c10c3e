package bridge

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/slurm"
)

// TestReconcileUnreadableRecord: a job whose squeue record does not read
// (its owner renamed it to something hostile) keeps its task's state;
// every other task is reconciled and the view stays current.
func TestReconcileUnreadableRecord(t *testing.T) {
	h := newHarness(t)
	next := 100
	h.slurm.submit = func(slurm.SubmitRequest) (string, error) { next++; return strconv.Itoa(next), nil }
	odd, other := h.start(nil), h.start(nil)
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "RUNNING", Nodes: []string{"r1-gpu01-ib"}}
	h.slurm.jobs["102"] = slurm.Job{ID: "102", State: "RUNNING", Nodes: []string{"r1-gpu01-ib"}}
	h.srv.reconcile(context.Background())

	h.slurm.jobs["101"] = slurm.Job{ID: "101", Err: errors.New("unreadable")}
	h.slurm.jobs["102"] = slurm.Job{ID: "102", State: "CANCELLED"}
	h.srv.reconcile(context.Background())
	n := h.get(odd.ID)
	if n.State != api.StateStarting {
		t.Errorf("the task of the unreadable job: %s %s, want it kept STARTING", n.State, n.Reason)
	}
	n = h.get(other.ID)
	if n.State != api.StateTerminated {
		t.Errorf("the other task: %s, want TERMINATED", n.State)
	}
	if st := h.srv.view.status(); st.Stale {
		t.Errorf("one unreadable record made the view stale: %+v", st)
	}

	task, _ := h.srv.store.GetTask(context.Background(), odd.ID)
	h.token = ""
	w := h.req("POST", "/api/v1/tasks/"+odd.ID+"/ready", jobspec.ReadyRequest{Node: "r1-gpu01-ib", Port: 4000}, map[string]string{jobspec.SecretHeader: task.Secret})
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("ready while the job's record does not read: %d, want 503", w.Code)
	}
}
