package slurm

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestClusterCommands: a CLI with Cluster set sends -M <cluster> to every
// command and reads output as Slurm 22.05 prints it with -M: a
// "CLUSTER: <name>" line before the block, even with -h, and "id;cluster"
// from sbatch --parsable.
func TestClusterCommands(t *testing.T) {
	const squeueOut = "CLUSTER: devcluster2\n" +
		testMarker + "|7|RUNNING|2026-11-29T10:00:00|59:00|alice|normal|c2-gpu01|None\n"
	const sinfoOut = "CLUSTER: devcluster2\n" +
		"c2-gpu01|gpu2*|127.0.0.1|0/8/0/8|gpu:a100:2|gpu:a100:1(IDX:0)|mixed|\n"
	const activeOut = "CLUSTER: devcluster2\n" +
		testMarker + "|7|RUNNING|alice|det-notebook-11111111-1111-4111-8111-111111111111\n"
	const limitOut = "CLUSTER: devcluster2\n" + testMarker + "|7|RUNNING|1:00:00|1:00\n"
	r := &StubRunner{Stubs: []Stub{
		{Name: "sbatch", Prefix: []string{"-M", "devcluster2", "--parsable"}, Out: "7;devcluster2\n"},
		{Name: "squeue", Prefix: []string{"-M", "devcluster2", "-h", "--states=all", "-j", "7"}, Out: squeueOut},
		{Name: "sinfo", Prefix: []string{"-M", "devcluster2", "-h", "-N"}, Out: sinfoOut},
		{Name: "squeue", Prefix: []string{"-M", "devcluster2", "-h", "--states=PENDING,RUNNING,CONFIGURING,SUSPENDED,COMPLETING"}, Out: activeOut},
		{Name: "squeue", Prefix: []string{"-M", "devcluster2", "-h", "--states=all", "-j", "7"}, Out: limitOut},
		{Name: "scontrol", Prefix: []string{"-M", "devcluster2", "update", "JobId=7"}},
		{Name: "sacct", Prefix: []string{"-M", "devcluster2", "-n", "-P", "-X", "-j", "7"}, Out: "COMPLETED|0:0\n"},
		{Name: "scancel", Prefix: []string{"-M", "devcluster2", "7"}},
	}}
	c := &CLI{Runner: r, Cluster: "devcluster2", marker: func() string { return testMarker }}
	ctx := context.Background()
	id, err := c.Submit(ctx, SubmitRequest{User: "alice", Script: "/j/job.sh", Args: []string{"--partition=gpu2"}})
	if err != nil || id != "7" {
		t.Fatalf("submit: %q %v", id, err)
	}
	jobs, err := c.Query(ctx, []string{"7"})
	if err != nil || jobs["7"].State != "RUNNING" || jobs["7"].Err != nil || !slices.Equal(jobs["7"].Nodes, []string{"c2-gpu01"}) {
		t.Fatalf("query: %+v %v", jobs, err)
	}
	nodes, err := c.Nodes(ctx)
	if err != nil || len(nodes) != 1 || nodes[0].GPUs != 2 || nodes[0].GPUsUsed != 1 || DefaultPartition(nodes) != "gpu2" {
		t.Fatalf("nodes: %+v %v", nodes, err)
	}
	active, err := c.Active(ctx)
	if err != nil || len(active) != 1 || active[0].ID != "7" || strings.Contains(active[0].Name, "CLUSTER") {
		t.Fatalf("active: %+v %v", active, err)
	}
	lim, err := c.TimeLimit(ctx, "7")
	if err != nil || lim.Limit != time.Hour {
		t.Fatalf("time limit: %+v %v", lim, err)
	}
	if err := c.SetTimeLimit(ctx, "7", 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if st, _, err := c.Finished(ctx, "7"); err != nil || st != "COMPLETED" {
		t.Fatalf("finished: %q %v", st, err)
	}
	if err := c.Cancel(ctx, "7"); err != nil {
		t.Fatal(err)
	}
	if u := r.Unused(); len(u) > 0 {
		t.Fatalf("not called: %v", u)
	}
}

// TestLocalClusterNoM: without Cluster nothing changes: no -M.
func TestLocalClusterNoM(t *testing.T) {
	r := &StubRunner{Stubs: []Stub{{Name: "scancel", Prefix: []string{"7"}}, {Name: "sinfo", Prefix: []string{"-h"}}}}
	c := &CLI{Runner: r}
	if err := c.Cancel(context.Background(), "7"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Nodes(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, call := range r.Calls {
		if slices.Contains(call.Args, "-M") {
			t.Errorf("local call with -M: %s", call)
		}
	}
}

func TestDropClusterHeaders(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a\nb\n", "a\nb\n"},
		{"CLUSTER: c2\na|b\n", "a|b\n"},
		{"CLUSTER: c1\nx\n\nCLUSTER: c2\ny\n", "x\n\ny\n"},
		{"name CLUSTER: c2\n", "name CLUSTER: c2\n"},
		{"CLUSTER: c2", ""},
	}
	for _, c := range cases {
		if got := string(DropClusterHeaders([]byte(c.in))); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}

// TestParseClusterName reads ClusterName from scontrol show config, and
// refuses a value -M could not take.
func TestParseClusterName(t *testing.T) {
	out := []byte("Configuration data as of 2026-11-29T15:00:00\nAccountingStorageBackupHost = (null)\nClusterName             = devcluster\nCompleteWait = 0 sec\n")
	if name, err := ParseClusterName(out); err != nil || name != "devcluster" {
		t.Errorf("got %q %v", name, err)
	}
	if _, err := ParseClusterName([]byte("ClusterName = a b\n")); err == nil {
		t.Error("a name with a space was taken")
	}
	if _, err := ParseClusterName([]byte("SlurmUser = root\n")); err == nil {
		t.Error("no ClusterName line, no error")
	}
}
