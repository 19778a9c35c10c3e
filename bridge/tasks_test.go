package bridge

import (
	"context"
	"net/http"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/slurm"
)

// TestGetTaskLifecycle: GET /api/v1/tasks/{id} in Determined's v1Task
// shape through a notebook's life: not ready while queued, ready once
// Jupyter answered, an end time only once terminated (Determined's CLI
// waits on exactly these).
func TestGetTaskLifecycle(t *testing.T) {
	h := newHarness(t)
	nb := h.start(map[string]any{"resources": map[string]any{"slots": 2}})
	path := "/api/v1/tasks/" + nb.ID
	taskKinds := map[string]string{"taskId": "string", "taskType": "string", "allocations": "array", "startTime": "string"}
	allocKinds := map[string]string{"taskId": "string", "allocationId": "string", "state": "string", "isReady": "bool", "slots": "number", "startTime": "string", "resourcePool": "string"}
	get := func() (map[string]any, map[string]any) {
		t.Helper()
		task := h.getJSON(path)["task"].(map[string]any)
		fieldKinds(t, "task", task, taskKinds)
		allocs := task["allocations"].([]any)
		if len(allocs) != 1 {
			t.Fatalf("allocations %v", allocs)
		}
		a := allocs[0].(map[string]any)
		fieldKinds(t, "allocation", a, allocKinds)
		return task, a
	}

	task, a := get()
	if task["taskId"] != nb.ID || task["taskType"] != api.TaskTypeNotebook || a["allocationId"] != nb.ID+".1" || a["slots"] != 2.0 ||
		a["state"] != api.StateQueued || a["isReady"] != false || a["resourcePool"] != "gpu" {
		t.Errorf("queued task %v, allocation %v", task, a)
	}
	if _, ok := task["endTime"]; ok {
		t.Error("a queued task has an endTime")
	}

	h.running(nb.ID, "r1-gpu01-ib")
	if _, a = get(); a["state"] != api.StateRunning || a["isReady"] != true {
		t.Errorf("running allocation %v", a)
	}

	h.do("POST", "/api/v1/notebooks/"+nb.ID+"/kill", nil, nil, http.StatusOK)
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "CANCELLED"}
	h.srv.reconcile(context.Background())
	task, a = get()
	if task["endTime"] == nil || a["endTime"] == nil || a["state"] != api.StateTerminated || a["exitReason"] != reasonKilled {
		t.Errorf("terminated task %v, allocation %v", task, a)
	}

	// A prefix works as for notebooks; others' tasks are absent.
	h.getJSON("/api/v1/tasks/" + nb.ID[:8])
	if _, err := h.srv.store.CreateUser(context.Background(), "bob", store.Plain("pw"), false); err != nil {
		t.Fatal(err)
	}
	bob := h.as("bob", "pw")
	for _, p := range []string{path, path + "/logs"} {
		if w := bob.req("GET", p, nil, nil); w.Code != http.StatusNotFound {
			t.Errorf("bob GET %s: %d, want 404", p, w.Code)
		}
	}
	h.adminClient().getJSON(path)
}

// TestTaskTypes: shells are TASK_TYPE_SHELL.
func TestTaskTypes(t *testing.T) {
	for kind, want := range map[string]string{jobspec.KindNotebook: api.TaskTypeNotebook, jobspec.KindShell: api.TaskTypeShell, "command": api.TaskTypeCommand, "other": api.TaskTypeUnspecified} {
		if got := api.TaskType(kind); got != want {
			t.Errorf("TaskType(%q) = %s, want %s", kind, got, want)
		}
	}
}

// TestGetTasks: GET /api/v1/tasks lists the live tasks a user may see by
// allocation id, with the node and the GPUs a running one holds.
func TestGetTasks(t *testing.T) {
	h := newHarness(t)
	h.numberedJobs()
	queued := h.start(map[string]any{"resources": map[string]any{"slots": 1}})
	run := h.start(map[string]any{"resources": map[string]any{"slots": 2}})
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "PENDING", Reason: "Resources"}
	h.running(run.ID, "r1-gpu01-ib")

	sums := h.getJSON("/api/v1/tasks")["allocationIdToSummary"].(map[string]any)
	if len(sums) != 2 {
		t.Fatalf("summaries %v", sums)
	}
	kinds := map[string]string{"taskId": "string", "allocationId": "string", "name": "string", "registeredTime": "string",
		"resourcePool": "string", "slotsNeeded": "number", "resources": "array", "schedulerType": "string", "username": "string"}
	for k, v := range sums {
		fieldKinds(t, k, v.(map[string]any), kinds)
	}
	q := sums[queued.ID+".1"].(map[string]any)
	if q["taskId"] != queued.ID || len(q["resources"].([]any)) != 0 || q["schedulerType"] != api.SchedulerTypeSlurm || q["username"] != "determined" {
		t.Errorf("queued summary %v", q)
	}
	r := sums[run.ID+".1"].(map[string]any)
	res := r["resources"].([]any)
	if len(res) != 1 {
		t.Fatalf("running summary %v", r)
	}
	rs := res[0].(map[string]any)
	devs := rs["agentDevices"].(map[string]any)["r1-gpu01-ib"].(map[string]any)["devices"].([]any)
	if rs["containerId"] != "102" || rs["allocationId"] != run.ID+".1" || len(devs) != 2 || devs[1].(map[string]any)["type"] != api.DeviceTypeCUDA {
		t.Errorf("running resources %v", rs)
	}

	if _, err := h.srv.store.CreateUser(context.Background(), "bob", store.Plain("pw"), false); err != nil {
		t.Fatal(err)
	}
	if sums := h.as("bob", "pw").getJSON("/api/v1/tasks")["allocationIdToSummary"].(map[string]any); len(sums) != 0 {
		t.Errorf("bob sees %v", sums)
	}
	if sums := h.adminClient().getJSON("/api/v1/tasks")["allocationIdToSummary"].(map[string]any); len(sums) != 2 {
		t.Errorf("admin sees %d tasks", len(sums))
	}
}
