package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
)

// TestTaskLife: a relaunch's link and context flag are stored; a requeue
// clears the address and counts a restart; extensions count; a
// terminated task changes no more; lists carry all of it.
func TestTaskLife(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	if _, err := s.CreateUser(ctx, "alice", Plain("pw"), false); err != nil {
		t.Fatal(err)
	}
	task := &Task{ID: "new", Type: "notebook", Owner: "alice", PosixUser: "alice", State: api.StateQueued, Pool: "gpu",
		Config: "{}", JupyterToken: "t", Secret: "s", JobDir: "/j", RegisteredTime: time.Now(), Replaces: "old", HasContext: true}
	if err := s.InsertTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateTask(ctx, "new", Update{State: api.StateRunning, Node: "n1", Host: "10.0.0.1", Port: 4000}, ""); err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 0)
	if err := s.Requeued(ctx, "new", api.StateQueued, "preempted at 22:13, waiting to run again", at, "preempted"); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetTask(ctx, "new")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != api.StateQueued || got.Node != "" || got.Host != "" || got.Port != 0 || got.Restarts != 1 ||
		!got.PreemptedTime.Equal(at) || got.Replaces != "old" || !got.HasContext {
		t.Fatalf("after the requeue: %+v", got)
	}
	if err := s.RestartSeen(ctx, "new", at.Add(time.Hour), "ran again"); err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 2; want++ {
		if n, err := s.AddExtension(ctx, "new", "extended"); err != nil || n != want {
			t.Fatalf("extension %d: %d %v", want, n, err)
		}
	}
	list, err := s.ListTasks(ctx, TaskFilter{Type: "notebook"})
	if err != nil || len(list) != 1 {
		t.Fatalf("list %v %v", list, err)
	}
	if l := list[0]; l.Restarts != 2 || !l.PreemptedTime.Equal(at.Add(time.Hour)) || l.Extensions != 2 || l.Replaces != "old" || !l.HasContext {
		t.Fatalf("listed %+v", l)
	}
	events, _ := s.Events(ctx, "new", 0)
	if len(events) != 4 {
		t.Errorf("%d events, want 4", len(events))
	}
	if err := s.UpdateTask(ctx, "new", Update{State: api.StateTerminated}, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Requeued(ctx, "new", api.StateQueued, "x", at, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("a terminated task was requeued: %v", err)
	}
	if _, err := s.AddExtension(ctx, "new", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("a terminated task was extended: %v", err)
	}
}
