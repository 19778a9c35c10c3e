package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/slurm"
)

// faultyStore is a Store whose writes fail while their error is set.
type faultyStore struct {
	Store
	setJobID error
	update   error
}

func (f *faultyStore) SetJobID(ctx context.Context, id, jobID string) error {
	if f.setJobID != nil {
		return f.setJobID
	}
	return f.Store.SetJobID(ctx, id, jobID)
}

func (f *faultyStore) UpdateTask(ctx context.Context, id string, u store.Update, msg string) error {
	if f.update != nil {
		return f.update
	}
	return f.Store.UpdateTask(ctx, id, u, msg)
}

// queueJobs makes the fake's sbatch queue each job as Slurm would: PENDING,
// under the bridge's job name, with ids from 101 on.
func queueJobs(h *harness) {
	next := 101
	h.slurm.submit = func(r slurm.SubmitRequest) (string, error) {
		id := strconv.Itoa(next)
		next++
		name := ""
		for _, a := range r.Args {
			if v, ok := strings.CutPrefix(a, "--job-name="); ok {
				name = v
			}
		}
		h.slurm.jobs[id] = slurm.Job{ID: id, Name: name, State: "PENDING", TimeLeft: -1}
		return id, nil
	}
}

// onlyTask returns the harness user's one notebook.
func onlyTask(t *testing.T, h *harness) api.Notebook {
	t.Helper()
	var list api.GetNotebooksResponse
	h.do("GET", "/api/v1/notebooks", nil, &list, http.StatusOK)
	if len(list.Notebooks) != 1 {
		t.Fatalf("%d notebooks, want 1: %+v", len(list.Notebooks), list.Notebooks)
	}
	return list.Notebooks[0]
}

// TestStoreFailsAfterSbatch: when the job id cannot be recorded, the job
// Slurm queued is cancelled, the task ends TERMINATED with the reason and
// its token is revoked, and a kill of it answers 200.
func TestStoreFailsAfterSbatch(t *testing.T) {
	h := newHarness(t)
	queueJobs(h)
	fs := &faultyStore{Store: h.srv.store, setJobID: errors.New("database is locked")}
	h.srv.store = fs
	w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{Config: map[string]any{}}, nil)
	var e api.Error
	_ = json.Unmarshal(w.Body.Bytes(), &e)
	if w.Code != http.StatusInternalServerError || !strings.Contains(e.Message, "cancelled the job") || !strings.Contains(e.Message, "try again") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if len(h.slurm.jobs) != 0 || len(h.slurm.cancels) != 1 || h.slurm.cancels[0] != "101" {
		t.Fatalf("left in Slurm: %v (cancels %v)", h.slurm.jobs, h.slurm.cancels)
	}
	nb := onlyTask(t, h)
	if nb.State != api.StateTerminated || !strings.Contains(nb.Reason, "could not record Slurm job 101") || !strings.Contains(nb.Reason, "database is locked") {
		t.Fatalf("task %+v", nb)
	}
	if tok := specOf(t, h, nb.ID).UserToken; tok == "" {
		t.Fatal("no task token written")
	} else if _, err := h.srv.store.SessionByToken(context.Background(), tok); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the task's token still works: %v", err)
	}
	h.do("POST", "/api/v1/notebooks/"+nb.ID+"/kill", nil, nil, http.StatusOK)
	h.srv.reconcile(context.Background())
	if nb := onlyTask(t, h); nb.State != api.StateTerminated {
		t.Fatalf("after kill and reconcile: %+v", nb)
	}
}

// TestStoreFailsTwiceAfterSbatch: when ending the task fails too, the job
// is still cancelled, and the next reconcile tick ends the task.
func TestStoreFailsTwiceAfterSbatch(t *testing.T) {
	h := newHarness(t)
	queueJobs(h)
	fs := &faultyStore{Store: h.srv.store, setJobID: errors.New("disk I/O error"), update: errors.New("disk I/O error")}
	h.srv.store = fs
	if w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{Config: map[string]any{}}, nil); w.Code != http.StatusInternalServerError {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if len(h.slurm.jobs) != 0 {
		t.Fatalf("left in Slurm: %v", h.slurm.jobs)
	}
	if nb := onlyTask(t, h); nb.State != api.StateQueued || nb.SlurmJobID != "" {
		t.Fatalf("with every write failing: %+v", nb)
	}
	fs.update, fs.setJobID = nil, nil
	h.srv.reconcile(context.Background())
	if nb := onlyTask(t, h); nb.State != api.StateTerminated || nb.Reason != reasonHalfDone {
		t.Fatalf("after a reconcile: %+v", nb)
	}
}

// TestKillWithoutJob: a task that a submit cut short left without a job
// (the bridge stopped after sbatch) ends at once when killed, and the job
// that shows up under its name is cancelled by the orphan sweep.
func TestKillWithoutJob(t *testing.T) {
	h := newHarness(t)
	id := "6a1f0c3e-0000-4000-8000-000000000001"
	if err := h.srv.store.InsertTask(context.Background(), &store.Task{ID: id, Type: typeNotebook, Owner: "determined",
		State: api.StateQueued, Config: "{}", RegisteredTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var killed api.KillNotebookResponse
	h.do("POST", "/api/v1/notebooks/"+id+"/kill", nil, &killed, http.StatusOK)
	if nb := killed.Notebook; nb.State != api.StateTerminated || nb.Reason != reasonKilled || nb.ExitStatus != reasonKilled {
		t.Fatalf("after kill: %+v", killed)
	}
	h.slurm.jobs["555"] = slurm.Job{ID: "555", Name: "det-notebook-" + id, State: "PENDING"}
	h.srv.sweepOrphans(context.Background())
	if len(h.slurm.jobs) != 0 {
		t.Fatalf("the late job was not cancelled: %v", h.slurm.jobs)
	}
	if n := h.srv.abandoned.size(); n != 0 {
		t.Fatalf("%d abandoned tasks kept after their job was cancelled", n)
	}
}

// TestReconcileEndsHalfDone: a live task without a job and without a
// running submit is ended by the reconciler; one whose submit runs is not.
func TestReconcileEndsHalfDone(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, id := range []string{"6a1f0c3e-0000-4000-8000-000000000002", "6a1f0c3e-0000-4000-8000-000000000003"} {
		if err := h.srv.store.InsertTask(ctx, &store.Task{ID: id, Type: typeNotebook, Owner: "determined",
			State: api.StateQueued, Config: "{}", RegisteredTime: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	h.srv.submitting.add("6a1f0c3e-0000-4000-8000-000000000003")
	h.srv.reconcile(ctx)
	if got, _ := h.srv.store.GetTask(ctx, "6a1f0c3e-0000-4000-8000-000000000002"); got.State != api.StateTerminated || got.Reason != reasonHalfDone {
		t.Fatalf("cut-short task: %s %q", got.State, got.Reason)
	}
	if got, _ := h.srv.store.GetTask(ctx, "6a1f0c3e-0000-4000-8000-000000000003"); got.State != api.StateQueued {
		t.Fatalf("a task whose submit runs was ended: %s %q", got.State, got.Reason)
	}
}

// TestKillDuringSubmit: a kill that comes while sbatch runs ends the task,
// and the submit cancels the job it queued.
func TestKillDuringSubmit(t *testing.T) {
	h := newHarness(t)
	queueJobs(h)
	queue := h.slurm.submit
	killed := 0
	h.slurm.submit = func(r slurm.SubmitRequest) (string, error) {
		id := filepath.Base(filepath.Dir(r.Script))
		var resp api.KillNotebookResponse
		h.do("POST", "/api/v1/notebooks/"+id+"/kill", nil, &resp, http.StatusOK)
		if nb := resp.Notebook; nb.State == api.StateTerminated && nb.Reason == reasonKilled {
			killed++
		}
		return queue(r)
	}
	w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{Config: map[string]any{}}, nil)
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "killed while it was being queued") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if killed != 1 || len(h.slurm.jobs) != 0 {
		t.Fatalf("kill ended the task: %v; left in Slurm: %v", killed == 1, h.slurm.jobs)
	}
	if nb := onlyTask(t, h); nb.State != api.StateTerminated || nb.Reason != reasonKilled || nb.SlurmJobID != "101" {
		t.Fatalf("task %+v", nb)
	}
	if n := h.srv.submitting.size(); n != 0 {
		t.Fatalf("%d submits still marked running", n)
	}
}

// specOf reads the task.json the bridge wrote for a task.
func specOf(t *testing.T, h *harness, id string) jobspec.Spec {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(h.root, "jobuser", id, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec jobspec.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	return spec
}
