package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// TestDeterminedTaskRoutes: a running 1-GPU notebook as Determined's
// client sees it: its task ready and without an end time, its allocation
// on a GPU node, the node's agent showing one slot held by the
// notebook's Slurm job, the last log lines in time order; killed, the
// task gets its end time.
func TestDeterminedTaskRoutes(t *testing.T) {
	c := cluster(t)
	nb := start(t, c, map[string]any{"resources": map[string]any{"slots": 1}})
	waitState(t, c, nb.ID, api.StateRunning, startWithin)
	ctx := ctxT(t, time.Minute)

	task, err := c.Task(ctx, nb.ID)
	if err != nil || len(task.Allocations) != 1 || !task.Allocations[0].IsReady || task.EndTime != nil ||
		task.Allocations[0].AllocationID != nb.ID+".1" || task.TaskType != api.TaskTypeNotebook {
		t.Fatalf("task %+v: %v", task, err)
	}

	tasks, err := c.Tasks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum, ok := tasks[nb.ID+".1"]
	if !ok || len(sum.Resources) != 1 {
		t.Fatalf("the notebook's allocation summary: %+v (%v)", sum, err)
	}
	res := sum.Resources[0]
	var node string
	for n, d := range res.AgentDevices {
		node = n
		if len(d.Devices) != 1 || d.Devices[0].Type != api.DeviceTypeCUDA {
			t.Errorf("devices on %s: %+v", n, d.Devices)
		}
	}
	if !strings.Contains(node, "gpu") || res.ContainerID == "" {
		t.Fatalf("resources %+v", res)
	}

	// An agent per node of both clusters: r1-gpu01-ib, r1-gpu02-ib and
	// cpu1, and the second cluster's c2-gpu01.
	agents, err := c.Agents(ctx)
	if err != nil || len(agents) != 4 {
		t.Fatalf("agents %+v: %v", agents, err)
	}
	held := 0
	for _, a := range agents {
		if a.ID == "cpu1" && (len(a.Slots) != 1 || a.Slots["0"].Device.Type != api.DeviceTypeCPU) {
			t.Errorf("cpu1's slots %+v", a.Slots)
		}
		if a.ID != node {
			continue
		}
		for _, s := range a.Slots {
			if s.Container != nil && s.Container.ID == res.ContainerID {
				held++
			}
		}
	}
	if held != 1 {
		t.Errorf("%d slots of %s show job %s, want 1", held, node, res.ContainerID)
	}

	var tail []api.TaskLog
	if err := c.Logs(ctx, nb.ID, client.LogOptions{Tail: 3}, func(l api.TaskLog) error { tail = append(tail, l); return nil }); err != nil || len(tail) != 3 {
		t.Fatalf("the last 3 lines: %d, %v", len(tail), err)
	}
	for i := 1; i < len(tail); i++ {
		if tail[i].Timestamp.Before(tail[i-1].Timestamp) {
			t.Errorf("--tail printed line %d before an older one", i)
		}
	}

	if _, err := c.KillNotebook(ctx, nb.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		task, err := c.Task(ctx, nb.ID)
		if err == nil && task.EndTime != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no end time a minute after the kill: %+v %v", task, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
