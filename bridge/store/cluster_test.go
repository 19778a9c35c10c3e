package store

import (
	"context"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
)

// TestTaskCluster: a task keeps the Slurm cluster of its job, in whole
// reads and in lists; tasks stored before migration 16 are the local
// cluster's.
func TestTaskCluster(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	for id, cluster := range map[string]string{"a": "", "b": "devcluster2"} {
		task := &Task{ID: id, Type: "notebook", Owner: "alice", PosixUser: "alice", State: api.StateQueued, Pool: "p",
			Config: "{}", JupyterToken: "t", Secret: "s", JobDir: "/j", RegisteredTime: time.Now(), Cluster: cluster}
		if err := s.InsertTask(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.GetTask(ctx, "b"); err != nil || got.Cluster != "devcluster2" {
		t.Fatalf("get: %+v %v", got, err)
	}
	live, err := s.LiveTasks(ctx)
	if err != nil || len(live) != 2 {
		t.Fatalf("live: %v", err)
	}
	listed, err := s.ListTasks(ctx, TaskFilter{Type: "notebook"})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range listed {
		if want := map[string]string{"a": "", "b": "devcluster2"}[l.ID]; l.Cluster != want {
			t.Errorf("listed %s in cluster %q, want %q", l.ID, l.Cluster, want)
		}
	}
}
