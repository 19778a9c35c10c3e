package slurm

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

const testMarker = "Rtestmarker"

func TestParseSqueueCaptured(t *testing.T) {
	out, err := os.ReadFile("testdata/squeue-query.txt")
	if err != nil {
		t.Fatal(err)
	}
	jobs, stray := ParseSqueue(out, testMarker)
	if len(jobs) != 5 || stray != 0 {
		t.Fatalf("%d jobs, %d stray: %+v", len(jobs), stray, jobs)
	}
	for id, j := range jobs {
		if j.ID != id || j.State == "" || j.Err != nil {
			t.Errorf("bad job %+v", j)
		}
	}
	if j := jobs["27"]; j.State != "PENDING" || j.Reason != "Resources" || j.User != "alice" || len(j.Nodes) != 0 || !j.StartTime.IsZero() {
		t.Errorf("pending job %+v", j)
	}
	if j := jobs["25"]; j.State != "RUNNING" || j.TimeLeft <= 0 || j.Nodes[0] != "r1-gpu02-ib" || j.QOS != "normal" || j.StartTime.IsZero() {
		t.Errorf("running job %+v", j)
	}
	if j := jobs["24"]; j.State != "FAILED" || j.Reason != "NonZeroExitCode" {
		t.Errorf("failed job %+v", j)
	}
}

func TestParseActiveCaptured(t *testing.T) {
	out, err := os.ReadFile("testdata/squeue-active.txt")
	if err != nil {
		t.Fatal(err)
	}
	jobs := ParseActive(out, testMarker)
	if len(jobs) != 3 || jobs[0].ID != "27" || jobs[0].Name != "det-notebook-x3" || jobs[0].State != "PENDING" || jobs[0].User != "alice" {
		t.Fatalf("jobs %+v", jobs)
	}
}

// TestParseHostileNames: a user renames their own job (scontrol update
// JobName=...) to anything; no name may break or forge another job's
// record, and a bad record is its own job's problem only.
func TestParseHostileNames(t *testing.T) {
	const alice = "30|RUNNING|alice|det-notebook-11111111-1111-4111-8111-111111111111"
	forged := "30|CANCELLED|alice|det-notebook-11111111-1111-4111-8111-111111111111"
	cases := []struct {
		name     string
		bobsName string
		wantName string
	}{
		{"pipe", "a|b", "a|b"},
		{"pipes like a record", "|COMPLETED|alice|x", "|COMPLETED|alice|x"},
		{"newline and a forged record", "x\n" + forged, "x " + forged},
		{"newline and a guessed marker", "x\nRguess|" + forged, "x Rguess|" + forged},
		{"trailing newline", "x\n", "x"},
		{"empty", "", ""},
		{"control bytes", "a\rb\x1b[2Jc", "a b [2Jc"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := testMarker + "|" + alice + "\n" + testMarker + "|31|RUNNING|bob|" + c.bobsName + "\n" + testMarker + "|32|PENDING|bob|y\n"
			jobs := ParseActive([]byte(out), testMarker)
			if len(jobs) != 3 {
				t.Fatalf("%d jobs: %+v", len(jobs), jobs)
			}
			if j := jobs[0]; j.ID != "30" || j.State != "RUNNING" || j.User != "alice" || j.Err != nil {
				t.Errorf("alice's job %+v", j)
			}
			if j := jobs[1]; j.ID != "31" || j.State != "RUNNING" || j.Name != c.wantName || j.Err != nil {
				t.Errorf("bob's job %+v, want name %q", j, c.wantName)
			}
			if j := jobs[2]; j.ID != "32" || j.State != "PENDING" || j.Name != "y" {
				t.Errorf("bob's other job %+v", j)
			}
		})
	}
}

// TestParseSqueueBadRecords: a record that does not read marks its own
// job unreadable and leaves every other job alone; nothing fails.
func TestParseSqueueBadRecords(t *testing.T) {
	good := testMarker + "|30|RUNNING|2026-11-26T22:31:19|4:58|alice|normal|r1-gpu02-ib|None\n"
	cases := []struct {
		name      string
		out       string
		wantErr   []string // ids with Err
		wantStray int
	}{
		{"bad state", testMarker + "|31|running|N/A|UNLIMITED|bob|normal||x\n", []string{"31"}, 0},
		{"too few fields", testMarker + "|31|RUNNING|N/A\n", []string{"31"}, 0},
		{"duplicate id", testMarker + "|31|RUNNING|N/A|4:00|bob|normal|r1-gpu01-ib|None\n" + testMarker + "|31|PENDING|N/A|4:00|bob|normal||None\n", []string{"31"}, 0},
		{"no id", testMarker + "|x31|RUNNING|N/A|4:00|bob|normal|r1-gpu01-ib|None\n", nil, 1},
		{"reason with a pipe and a newline", testMarker + "|31|PENDING|N/A|4:00|bob|normal||a|b\n31|CANCELLED\n", nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			jobs, stray := ParseSqueue([]byte(good+c.out), testMarker)
			if j := jobs["30"]; j.State != "RUNNING" || j.Err != nil || j.Nodes[0] != "r1-gpu02-ib" {
				t.Errorf("the good job %+v", j)
			}
			if stray != c.wantStray {
				t.Errorf("stray %d, want %d", stray, c.wantStray)
			}
			for id, j := range jobs {
				if (j.Err != nil) != slices.Contains(c.wantErr, id) {
					t.Errorf("job %s: %+v", id, j)
				}
			}
		})
	}
	if _, stray := ParseSqueue([]byte("squeue: warning\n"+good), testMarker); stray != 1 {
		t.Errorf("text before the first record: stray %d, want 1", stray)
	}
	jobs, _ := ParseSqueue([]byte(testMarker+"|31|PENDING|N/A|4:00|bob|normal||a|b\n31|CANCELLED\n"), testMarker)
	if j := jobs["31"]; j.State != "PENDING" || j.Reason != "a|b 31|CANCELLED" {
		t.Errorf("reason %+v", j)
	}
}

func TestQuery(t *testing.T) {
	out := testMarker + "|30|RUNNING|2026-11-26T22:31:19|4:58|alice|normal|r1-gpu02-ib|None\n" +
		testMarker + "|31|RUNNING|N/A|4:00|bob|normal|r1-gpu01-ib|None\n" +
		testMarker + "|99|RUNNING|N/A|4:00|bob|normal|r1-gpu01-ib|None\n" // not asked for
	r := &StubRunner{Stubs: []Stub{{Name: "squeue", Prefix: []string{"-h", "--states=all", "-j", "30,31,32"}, Out: out}}}
	c := &CLI{Runner: r, Env: []string{"PATH=/bin", "SQUEUE_FORMAT2=JobID", "SQUEUE_USERS=bob", "SLURM_TIME_FORMAT=relative"}, marker: func() string { return testMarker }}
	jobs, err := c.Query(context.Background(), []string{"30", "31", "32"})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 || jobs["30"].State != "RUNNING" || jobs["31"].User != "bob" {
		t.Fatalf("jobs %+v", jobs)
	}
	if _, ok := jobs["32"]; ok {
		t.Error("a job squeue did not list must be absent (gone)")
	}
	if u := r.Unused(); len(u) > 0 {
		t.Fatalf("unused stubs %v", u)
	}
	call := r.Calls[0]
	want := []string{"PATH=/bin", "SQUEUE_FORMAT=" + testMarker + "|" + queryFields, "SLURM_TIME_FORMAT=standard"}
	if !slices.Equal(call.Env, want) {
		t.Errorf("env %q, want %q", call.Env, want)
	}
	if slices.Contains(call.Args, "-o") || strings.Contains(strings.Join(call.Args, " "), testMarker) {
		t.Errorf("the marker must not be on the command line (other users read it): %q", call.Args)
	}
}

// TestQueryStrayOutput: when some output belongs to no job, a job with no
// record is not taken for gone: it may be in that output.
func TestQueryStrayOutput(t *testing.T) {
	out := "garbage\n" + testMarker + "|30|RUNNING|N/A|4:00|alice|normal|r1-gpu01-ib|None\n"
	r := &StubRunner{Stubs: []Stub{{Name: "squeue", Out: out}}}
	c := &CLI{Runner: r, marker: func() string { return testMarker }}
	jobs, err := c.Query(context.Background(), []string{"30", "31"})
	if err != nil {
		t.Fatal(err)
	}
	if jobs["30"].Err != nil || jobs["31"].Err == nil {
		t.Fatalf("jobs %+v", jobs)
	}
}

func TestActive(t *testing.T) {
	out := testMarker + "|30|RUNNING|alice|det-notebook-x\n" + testMarker + "|31|PENDING|bob|a|b\n30|CANCELLED|alice|y\n"
	r := &StubRunner{Stubs: []Stub{{Name: "squeue", Prefix: []string{"-h", "--states=PENDING,RUNNING,CONFIGURING,SUSPENDED,COMPLETING"}, Out: out}}}
	c := &CLI{Runner: r, marker: func() string { return testMarker }}
	jobs, err := c.Active(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 || jobs[0].State != "RUNNING" || jobs[1].Name != "a|b 30|CANCELLED|alice|y" {
		t.Fatalf("jobs %+v", jobs)
	}
	if !slices.Contains(r.Calls[0].Env, "SQUEUE_FORMAT="+testMarker+"|"+activeFields) {
		t.Errorf("env %q", r.Calls[0].Env)
	}
}

func TestMarkerIsRandom(t *testing.T) {
	a, b := newMarker(), newMarker()
	if a == b || len(a) != 33 || strings.ContainsAny(a, "|%\n") {
		t.Fatalf("markers %q %q", a, b)
	}
}

// TestParseSqueueNodeLists: a job's node list is expanded by Slurm's rules;
// one that does not read leaves the job's state known and says why.
func TestParseSqueueNodeLists(t *testing.T) {
	out := testMarker + "|40|RUNNING|N/A|4:00|bob|normal|rack[1-2]-n[01-02]|None\n" +
		testMarker + "|41|RUNNING|N/A|4:00|bob|normal|gpu[1-2]-ib|None\n"
	jobs, _ := ParseSqueue([]byte(out), testMarker)
	if j := jobs["40"]; j.NodesErr != nil || !slices.Equal(j.Nodes, []string{"rack1-n01", "rack1-n02", "rack2-n01", "rack2-n02"}) || j.NodeList != "rack[1-2]-n[01-02]" {
		t.Errorf("job 40: %+v", j)
	}
	if j := jobs["41"]; j.Err != nil || j.State != "RUNNING" || j.Nodes != nil || !errors.Is(j.NodesErr, ErrBadHostlist) || j.NodeList != "gpu[1-2]-ib" {
		t.Errorf("job 41: %+v", j)
	}
}
