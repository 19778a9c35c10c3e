package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/slurm"
)

// fakeOrphans finds the jobs it holds and records the ones cancelled.
type fakeOrphans struct {
	jobs      []slurm.Job
	cancelled []string
	cancelErr error
}

func (f *fakeOrphans) Orphans(context.Context) ([]slurm.Job, error) { return f.jobs, nil }

func (f *fakeOrphans) CancelJob(_ context.Context, _, id string) error {
	if f.cancelErr != nil {
		return f.cancelErr
	}
	f.cancelled = append(f.cancelled, id)
	return nil
}

// TestListOrphans: orphans are listed as a table with a hint, cancelled
// only with --cancel, and a failed cancel names the job.
func TestListOrphans(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	if err := listOrphans(ctx, &fakeOrphans{}, true, &out); err != nil || out.String() != "No orphan jobs.\n" {
		t.Errorf("none: %v %q", err, out.String())
	}
	f := &fakeOrphans{jobs: []slurm.Job{{ID: "41", Name: "det-notebook-abc", User: "alice", State: "RUNNING"}, {ID: "42", Name: "det-shell-def", User: "bob", State: "PENDING"}}}
	out.Reset()
	if err := listOrphans(ctx, f, false, &out); err != nil || len(f.cancelled) != 0 {
		t.Fatalf("list: %v, cancelled %v", err, f.cancelled)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "Job Name User State" ||
		strings.Join(strings.Fields(lines[1]), " ") != "41 det-notebook-abc alice RUNNING" || lines[3] != "Run again with --cancel to cancel them." {
		t.Errorf("list:\n%s", out.String())
	}
	out.Reset()
	if err := listOrphans(ctx, f, true, &out); err != nil || strings.Join(f.cancelled, ",") != "41,42" || !strings.HasSuffix(out.String(), "Cancelled job 41.\nCancelled job 42.\n") {
		t.Errorf("--cancel: %v, cancelled %v\n%s", err, f.cancelled, out.String())
	}
	f.cancelErr = errors.New("scancel: no such job")
	if err := listOrphans(ctx, f, true, &out); err == nil || !strings.HasPrefix(err.Error(), "cancel job 41: scancel") {
		t.Errorf("a failed cancel: %v", err)
	}
}

// TestOrphansCommand: det-bridge orphans reads --config (a bad one is
// refused before Slurm is asked) and takes --cancel.
func TestOrphansCommand(t *testing.T) {
	if _, _, err := execute(t, "", "orphans", "--config", writeSite(t)+".none", "--cancel"); err == nil || !strings.Contains(err.Error(), "site.yaml.none") {
		t.Errorf("a missing config: %v", err)
	}
}
