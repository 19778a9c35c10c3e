package slurm

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestParseTimeLimit(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30":         30 * time.Minute,
		"90":         90 * time.Minute,
		"10:30":      10*time.Minute + 30*time.Second,
		"2:00:00":    2 * time.Hour,
		"1-0":        24 * time.Hour,
		"0-5":        5 * time.Hour,
		"1-2:30":     26*time.Hour + 30*time.Minute,
		"2-01:02:03": 49*time.Hour + 2*time.Minute + 3*time.Second,
	} {
		got, err := ParseTimeLimit(in)
		if err != nil || got != want {
			t.Errorf("ParseTimeLimit(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "1h", "-5", "1:2:3:4", "1-2:3:4:5", "1--2", ":", "1:"} {
		if _, err := ParseTimeLimit(in); err == nil {
			t.Errorf("ParseTimeLimit(%q) took it", in)
		}
	}
}

func TestFormatTimeLimit(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-1:                         "UNLIMITED",
		90 * time.Minute:           "1:30:00",
		49*time.Hour + time.Second: "2-01:00:01",
	} {
		if got := FormatTimeLimit(d); got != want {
			t.Errorf("FormatTimeLimit(%s) = %q, want %q", d, got, want)
		}
	}
	if Minutes(61*time.Second) != 2 || Minutes(time.Hour) != 60 {
		t.Error("minutes round up")
	}
}

func TestTimeLimit(t *testing.T) {
	out := testMarker + "|41|RUNNING|1:30:00|12:05\n" + testMarker + "|42|RUNNING|UNLIMITED|0:05\n"
	r := &StubRunner{Stubs: []Stub{
		{Name: "squeue", Prefix: []string{"-h", "--states=all", "-j", "41"}, Out: out},
		{Name: "squeue", Prefix: []string{"-h", "--states=all", "-j", "42"}, Out: out},
		{Name: "squeue", Prefix: []string{"-h", "--states=all", "-j", "43"}, Out: ""},
	}}
	c := &CLI{Runner: r, marker: func() string { return testMarker }}
	l, err := c.TimeLimit(context.Background(), "41")
	if err != nil || l.State != "RUNNING" || l.Limit != 90*time.Minute || l.Used != 12*time.Minute+5*time.Second {
		t.Fatalf("41: %+v %v", l, err)
	}
	if l, err := c.TimeLimit(context.Background(), "42"); err != nil || l.Limit != -1 {
		t.Fatalf("42: %+v %v", l, err)
	}
	if _, err := c.TimeLimit(context.Background(), "43"); !errors.Is(err, ErrJobGone) {
		t.Fatalf("43: %v", err)
	}
	if _, err := c.TimeLimit(context.Background(), "41;rm"); err == nil {
		t.Fatal("a bad job id went to squeue")
	}
	if !slices.Contains(r.Calls[0].Env, "SQUEUE_FORMAT="+testMarker+"|"+limitFields) {
		t.Errorf("env %q", r.Calls[0].Env)
	}
}

func TestSetTimeLimit(t *testing.T) {
	r := &StubRunner{Stubs: []Stub{{Name: "scontrol", Prefix: []string{"update", "JobId=41", "TimeLimit=91"}}}}
	c := &CLI{Runner: r}
	if err := c.SetTimeLimit(context.Background(), "41", 90*time.Minute+time.Second); err != nil {
		t.Fatal(err)
	}
	if u := r.Unused(); len(u) > 0 {
		t.Fatalf("unused stubs %v", u)
	}
	if err := c.SetTimeLimit(context.Background(), "41", 0); err == nil {
		t.Fatal("a zero limit was set")
	}
}

func TestDefaultPartitionOfSharedNodes(t *testing.T) {
	out := []byte("n1|urgent|10.0.0.1|0/16/0/16|gpu:a100:4|gpu:a100:0|idle|\nn1|gpu*|10.0.0.1|0/16/0/16|gpu:a100:4|gpu:a100:0|idle|\n")
	nodes, err := ParseSinfo(out)
	if err != nil || len(nodes) != 1 {
		t.Fatalf("%+v %v", nodes, err)
	}
	if got := DefaultPartition(nodes); got != "gpu" {
		t.Fatalf("default partition %q, want gpu", got)
	}
}
