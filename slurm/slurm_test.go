package slurm

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

func TestParseSinfo(t *testing.T) {
	out, err := os.ReadFile("testdata/sinfo-O.txt")
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := ParseSinfo(out)
	if err != nil {
		t.Fatal(err)
	}
	gpus := 0
	for _, n := range nodes {
		gpus += n.GPUs
	}
	if len(nodes) != 3 || gpus != 8 {
		t.Fatalf("got %d nodes, %d GPUs: %+v", len(nodes), gpus, nodes)
	}
	if DefaultPartition(nodes) != "gpu" || nodes[0].CPUsAlloc != 3 || nodes[0].CPUs != 16 || nodes[1].GPUType != "a100" {
		t.Fatalf("fields: %+v", nodes)
	}
	if _, n := ParseGres("gpu:a100:2(IDX:0-1)"); n != "a100" {
		t.Fatal("type of a used GRES")
	}
	if used, _ := ParseGres("gpu:a100:2(IDX:0-1)"); used != 2 {
		t.Fatal("count of a used GRES")
	}
}

func TestQueryGoneJobs(t *testing.T) {
	r := &StubRunner{Stubs: []Stub{{Name: "squeue", Err: &CommandError{Cmd: "squeue", Stderr: "slurm_load_jobs error: Invalid job id specified", Err: errors.New("exit 1")}}}}
	c := &CLI{Runner: r}
	jobs, err := c.Query(context.Background(), []string{"99"})
	if err != nil || len(jobs) != 0 {
		t.Fatalf("got %v %v", jobs, err)
	}
	if u := r.Unused(); len(u) > 0 {
		t.Fatalf("unused stubs %v", u)
	}
}

func TestQueryFailureIsError(t *testing.T) {
	r := &StubRunner{Stubs: []Stub{{Name: "squeue", Err: &CommandError{Cmd: "squeue", Stderr: "Unable to contact slurm controller", Err: errors.New("exit 1")}}}}
	c := &CLI{Runner: r}
	if _, err := c.Query(context.Background(), []string{"1"}); err == nil {
		t.Fatal("a failed squeue must be an error, never 'all jobs gone'")
	}
}

func TestSubmit(t *testing.T) {
	r := &StubRunner{Stubs: []Stub{{Name: "sbatch", Prefix: []string{"--parsable", "--partition=gpu"}, Out: "42\n"}}}
	c := &CLI{Runner: r}
	id, err := c.Submit(context.Background(), SubmitRequest{User: "alice", Script: "/j/job.sh", Args: []string{"--partition=gpu"}})
	if err != nil || id != "42" {
		t.Fatalf("got %q %v", id, err)
	}
	if r.Calls[0].User != "alice" || r.Calls[0].Args[len(r.Calls[0].Args)-1] != "/j/job.sh" {
		t.Fatalf("call %+v", r.Calls[0])
	}
}

func TestRenderScript(t *testing.T) {
	s, err := RenderScript("/opt/det/det-launcher", "/jobs/alice/1234/task.json")
	if err != nil {
		t.Fatal(err)
	}
	want := "exec '/opt/det/det-launcher' run --spec '/jobs/alice/1234/task.json'\n"
	if s[len(s)-len(want):] != want {
		t.Fatalf("script:\n%s", s)
	}
	for _, bad := range []string{"/a'b", "/a b", "rel/x", "/a\nb", "/$(x)"} {
		if _, err := RenderScript(bad, "/s"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestGresArg(t *testing.T) {
	if GresArg("gpu", "a100", 2) != "--gres=gpu:a100:2" || GresArg("gpu", "", 1) != "--gres=gpu:1" || GresArg("gpu", "x", 0) != "" {
		t.Fatal("gres")
	}
}

func TestParseTimeLeft(t *testing.T) {
	cases := map[string]time.Duration{
		"4:58":       4*time.Minute + 58*time.Second,
		"1:02:03":    time.Hour + 2*time.Minute + 3*time.Second,
		"2-01:00:00": 49 * time.Hour,
		"UNLIMITED":  -1,
		"NOT_SET":    -1,
		"INVALID":    -1,
	}
	for in, want := range cases {
		if got := ParseTimeLeft(in); got != want {
			t.Errorf("%s: %v, want %v", in, got, want)
		}
	}
}

func TestParseSacct(t *testing.T) {
	cases := []struct {
		out   string
		state string
		code  int
	}{
		{"CANCELLED by 2001|0:15\n", "CANCELLED", 0},
		{"FAILED|3:0\n", "FAILED", 3},
		{"TIMEOUT|0:0\n", "TIMEOUT", 0},
		{"", "", 0},
	}
	for _, c := range cases {
		st, code, err := ParseSacct([]byte(c.out))
		if err != nil || st != c.state || code != c.code {
			t.Errorf("%q: %s %d %v", c.out, st, code, err)
		}
	}
}

func TestFinishedWithoutAccounting(t *testing.T) {
	r := &StubRunner{Stubs: []Stub{{Name: "sacct", Err: &CommandError{Cmd: "sacct", Stderr: "Slurm accounting storage is disabled", Err: errors.New("exit 1")}}}}
	if _, _, err := (&CLI{Runner: r}).Finished(context.Background(), "1"); !errors.Is(err, ErrNoAccounting) {
		t.Fatalf("got %v", err)
	}
}

// TestExecRunnerTimeoutKillsTheGroup: a command that outlives its time,
// with a child that keeps the output open, ends with the time-out.
func TestExecRunnerTimeoutKillsTheGroup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := ExecRunner{}.Run(ctx, Cmd{Name: "/bin/sh", Args: []string{"-c", "sleep 30 & sleep 30"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("took %s", took)
	}
}
