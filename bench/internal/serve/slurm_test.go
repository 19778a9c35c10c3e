package serve

import (
	"context"
	"testing"

	"github.com/det-slurm/bridge/slurm"
)

// TestFakeClusterReadsAsSlurm checks that the real slurm.CLI reads the
// fake's answers: the seeded jobs run on the one node at NodeAddr, and
// their names carry their tasks' ids.
func TestFakeClusterReadsAsSlurm(t *testing.T) {
	ctx := context.Background()
	id := TunnelTaskID(3)
	sl := cluster(map[string]string{"300003": "det-notebook-" + id})
	jobs, err := sl.Query(ctx, []string{"300003", "999"})
	if err != nil {
		t.Fatal(err)
	}
	j, ok := jobs["300003"]
	if !ok || j.Err != nil || j.State != "RUNNING" || len(j.Nodes) != 1 || j.Nodes[0] != NodeName || j.TimeLeft != -1 {
		t.Fatalf("job = %+v (known %v)", j, ok)
	}
	if _, ok := jobs["999"]; ok {
		t.Fatal("a job the fake does not run is known")
	}
	nodes, err := sl.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 1 || nodes[0].Name != NodeName || nodes[0].Addr != NodeAddr || nodes[0].Partitions[0] != "cpu" {
		t.Fatalf("nodes = %+v", nodes)
	}
	active, err := sl.Active(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 1 || active[0].ID != "300003" || slurm.TaskIDOf(active[0].Name) != id {
		t.Fatalf("active = %+v", active)
	}
	if _, err := sl.Submit(ctx, slurm.SubmitRequest{Script: "x"}); err == nil {
		t.Fatal("the fake submitted a job")
	}
}
