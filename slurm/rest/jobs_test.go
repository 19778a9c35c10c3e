package rest

import (
	"context"
	"errors"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/det-slurm/bridge/slurm"
)

// operatorOnly checks every request went as the operator (root here).
func operatorOnly(t *testing.T, reqs []seen) {
	t.Helper()
	for _, r := range reqs {
		if r.User != "root" || verify(t, r.Token)["sun"] != "root" {
			t.Errorf("%s %s went as %q (token %v), want the operator root", r.Method, r.Path, r.User, verify(t, r.Token)["sun"])
		}
	}
}

func TestQuery(t *testing.T) {
	c, f := newFake(t, map[string]route{"GET /slurm/v0.0.38/jobs/": {200, "jobs.json"}})
	got, err := c.Query(context.Background(), []string{"101", "102", "104", "999"})
	if err != nil {
		t.Fatal(err)
	}
	operatorOnly(t, wantCalls(t, f, "GET /slurm/v0.0.38/jobs/"))
	want101 := slurm.Job{ID: "101", Name: "det-notebook-5b2a9ea4-0000-4000-8000-000000000001", State: "RUNNING", Reason: "None",
		NodeList: "r1-gpu01-ib,r1-gpu02-ib", Nodes: []string{"r1-gpu01-ib", "r1-gpu02-ib"}, StartTime: time.Unix(1700000000, 0),
		TimeLeft: 50 * time.Minute, User: "alice", QOS: "normal"}
	if !reflect.DeepEqual(got["101"], want101) {
		t.Errorf("101:\n got %+v\nwant %+v", got["101"], want101)
	}
	if j := got["102"]; j.State != "PENDING" || j.Reason != "QOSMaxGRESPerUser" || j.TimeLeft != -1 || !j.StartTime.Equal(time.Unix(1700007200, 0)) || j.Nodes != nil || j.QOS != "interactive" {
		t.Errorf("102: %+v", j)
	}
	if j, ok := got["104"]; !ok || j.Err == nil {
		t.Errorf("104, whose record does not read: %+v, want Err", j)
	}
	if _, ok := got["999"]; ok || len(got) != 3 {
		t.Errorf("got %d jobs (999 is gone): %v", len(got), got)
	}
	if got, err := c.Query(context.Background(), nil); err != nil || len(got) != 0 || len(f.requests()) != 1 {
		t.Errorf("no ids: %v %v, and no request", got, err)
	}
}

func TestActive(t *testing.T) {
	c, _ := newFake(t, map[string]route{"GET /slurm/v0.0.38/jobs/": {200, "jobs.json"}})
	got, err := c.Active(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []slurm.Job{
		{ID: "101", State: "RUNNING", User: "alice", Name: "det-notebook-5b2a9ea4-0000-4000-8000-000000000001"},
		{ID: "102", State: "PENDING", User: "bob", Name: "det-notebook-5b2a9ea4-0000-4000-8000-000000000002"},
		{ID: "104", Err: errUnreadable},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Active:\n got %+v\nwant %+v", got, want)
	}
}

func TestTimeLimits(t *testing.T) {
	c, f := newFake(t, map[string]route{
		"GET /slurm/v0.0.38/job/101":  {200, "jobs.json"},
		"GET /slurm/v0.0.38/job/999":  {500, "unknown_job.json"},
		"POST /slurm/v0.0.38/job/101": {200, ""},
	})
	ctx := context.Background()
	lim, err := c.TimeLimit(ctx, "101")
	if want := (slurm.Limit{State: "RUNNING", Limit: time.Hour, Used: 10 * time.Minute}); err != nil || lim != want {
		t.Errorf("TimeLimit(101) = %+v, %v; want %+v", lim, err, want)
	}
	if _, err := c.TimeLimit(ctx, "999"); !errors.Is(err, slurm.ErrJobGone) {
		t.Errorf("TimeLimit(999) = %v, want ErrJobGone", err)
	}
	if err := c.SetTimeLimit(ctx, "101", 90*time.Minute+time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TimeLimit(ctx, "101;rm"); err == nil {
		t.Error("a job id with other characters was sent")
	}
	reqs := wantCalls(t, f, "GET /slurm/v0.0.38/job/101", "GET /slurm/v0.0.38/job/999", "POST /slurm/v0.0.38/job/101")
	operatorOnly(t, reqs)
	if !reflect.DeepEqual(reqs[2].Body, map[string]any{"time_limit": float64(91)}) {
		t.Errorf("update body %v, want time_limit 91", reqs[2].Body)
	}
}

func TestCancel(t *testing.T) {
	c, f := newFake(t, map[string]route{
		"DELETE /slurm/v0.0.38/job/101": {200, ""},
		"DELETE /slurm/v0.0.38/job/999": {500, "unknown_job.json"},
		"DELETE /slurm/v0.0.38/job/5":   {500, "ctld_down.json"},
	})
	ctx := context.Background()
	if err := c.Cancel(ctx, "101"); err != nil {
		t.Error(err)
	}
	if err := c.Cancel(ctx, "999"); err != nil {
		t.Errorf("cancelling a job Slurm forgot: %v", err)
	}
	if err := c.Cancel(ctx, "5"); err == nil || !slurm.ControllerTrouble(err) {
		t.Errorf("controller down behind slurmrestd: %v, want controller trouble", err)
	}
	reqs := wantCalls(t, f, "DELETE /slurm/v0.0.38/job/101", "DELETE /slurm/v0.0.38/job/999", "DELETE /slurm/v0.0.38/job/5")
	operatorOnly(t, reqs)
	if reqs[0].Query != "" {
		t.Errorf("cancel sent %q: no signal means SIGKILL, as scancel", reqs[0].Query)
	}
}

func TestNodes(t *testing.T) {
	c, f := newFake(t, map[string]route{
		"GET /slurm/v0.0.38/nodes/":      {200, "nodes.json"},
		"GET /slurm/v0.0.38/partitions/": {200, "partitions.json"},
	})
	got, err := c.Nodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	operatorOnly(t, f.requests())
	want := []slurm.Node{
		{Name: "r1-gpu01-ib", Partitions: []string{"gpu", "urgent"}, Default: true, DefaultPartition: "gpu", Addr: "127.0.0.1",
			CPUs: 8, CPUsAlloc: 2, GPUs: 4, GPUsUsed: 2, GPUType: "a100", State: "mixed"},
		{Name: "r1-gpu02-ib", Partitions: []string{"gpu"}, Default: true, DefaultPartition: "gpu", Addr: "127.0.0.1",
			CPUs: 8, GPUs: 4, GPUType: "a100", State: "drained"},
		{Name: "r1-cpu01", Partitions: []string{"cpu"}, Addr: "127.0.0.2", CPUs: 4, State: "down*"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Nodes:\n got %+v\nwant %+v", got, want)
	}
	if slurm.DefaultPartition(got) != "gpu" || slurm.NodeUp(got[1].State) || slurm.NodeUp(got[2].State) || !slurm.NodeUp(got[0].State) {
		t.Error("default partition or node states do not read as sinfo's")
	}
	for _, c := range []struct {
		base  string
		flags []string
		want  string
	}{{"allocated", []string{"DRAIN"}, "draining"}, {"idle", nil, "idle"}, {"allocated", nil, "allocated"},
		{"idle", []string{"FAIL"}, "fail"}, {"mixed", []string{"COMPLETING"}, "completing"}, {"idle", []string{"POWERED_DOWN"}, "idle~"}} {
		if got := sinfoState(c.base, c.flags); got != c.want {
			t.Errorf("sinfoState(%s, %v) = %q, want %q", c.base, c.flags, got, c.want)
		}
	}
}

func TestFinished(t *testing.T) {
	c, f := newFake(t, map[string]route{
		"GET /slurmdb/v0.0.38/job/101": {200, "db_job.json"},
		"GET /slurmdb/v0.0.38/job/999": {500, "unknown_job.json"},
	})
	ctx := context.Background()
	if st, code, err := c.Finished(ctx, "101"); err != nil || st != "FAILED" || code != 3 {
		t.Errorf("Finished(101) = %q, %d, %v", st, code, err)
	}
	if st, _, err := c.Finished(ctx, "999"); err != nil || st != "" {
		t.Errorf("Finished(999) = %q, %v; want unknown", st, err)
	}
	operatorOnly(t, f.requests())
	// No dbv0.0.38 plugin: the path is not there.
	c2, _ := newFake(t, map[string]route{})
	if _, _, err := c2.Finished(ctx, "101"); !errors.Is(err, slurm.ErrNoAccounting) {
		t.Errorf("no accounting: %v, want ErrNoAccounting", err)
	}
}

func TestControllerDown(t *testing.T) {
	// Nothing listens on the port: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := New(Config{URL: "http://" + addr, KeyFile: writeKey(t), User: "root"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Query(context.Background(), []string{"1"})
	if err == nil || !slurm.ControllerTrouble(err) {
		t.Errorf("slurmrestd not answering: %v, want controller trouble", err)
	}
	c2, _ := newFake(t, map[string]route{"GET /slurm/v0.0.38/jobs/": {500, "ctld_down.json"}})
	if _, err := c2.Active(context.Background()); err == nil || !slurm.ControllerTrouble(err) {
		t.Errorf("slurmctld not answering slurmrestd: %v, want controller trouble", err)
	}
}

func TestNewChecksConfig(t *testing.T) {
	key := writeKey(t)
	for _, cfg := range []Config{
		{URL: "ftp://x", KeyFile: key, User: "root"},
		{URL: "unix:relative.sock", KeyFile: key, User: "root"},
		{URL: "http://127.0.0.1:6820", KeyFile: key},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	if _, err := New(Config{URL: "unix:/run/slurmrestd.socket", KeyFile: key, User: "root"}); err != nil {
		t.Error(err)
	}
}
