package rest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/slurm"
)

const script = "#!/bin/sh\nexec '/opt/det/launcher' run --spec '/jobs/alice/x/task.json'\n"

func TestSubmitAsOwner(t *testing.T) {
	c, f := newFake(t, map[string]route{"POST /slurm/v0.0.38/job/submit": {200, "submitted.json"}})
	id, err := c.Submit(context.Background(), slurm.SubmitRequest{
		User: "alice", Script: "/jobs/alice/x/job.sh", Text: script, Args: []string{"--job-name=det-notebook-x", "--partition=gpu", "--no-requeue"},
	})
	if err != nil || id != "4242" {
		t.Fatalf("Submit = %q, %v", id, err)
	}
	req := wantCalls(t, f, "POST /slurm/v0.0.38/job/submit")[0]
	if req.User != "alice" || verify(t, req.Token)["sun"] != "alice" {
		t.Errorf("submitted as %q with a token for %v, want alice's own", req.User, verify(t, req.Token)["sun"])
	}
	if req.ContentType != "application/json" {
		t.Errorf("Content-Type %q", req.ContentType)
	}
	if req.Body["script"] != script {
		t.Errorf("script %q, want the text", req.Body["script"])
	}
	job := req.Body["job"].(map[string]any)
	env := map[string]any{"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/home/alice", "USER": "alice", "LOGNAME": "alice", "LANG": "C.UTF-8", "SITE": "x"}
	if !reflect.DeepEqual(job["environment"], env) {
		t.Errorf("environment %v, want %v", job["environment"], env)
	}
	if job["name"] != "det-notebook-x" || job["partition"] != "gpu" || job["no_requeue"] != true {
		t.Errorf("job %v", job)
	}
}

func TestSubmitRefused(t *testing.T) {
	c, f := newFake(t, map[string]route{"POST /slurm/v0.0.38/job/submit": {500, "refused.json"}})
	_, err := c.Submit(context.Background(), slurm.SubmitRequest{User: "alice", Text: script, Args: []string{"--account=nope"}})
	var said slurm.Said
	if !errors.As(err, &said) {
		t.Fatalf("refusal %v does not carry Slurm's words", err)
	}
	if want := "slurmrestd: Batch job submission failed: Invalid account or account/partition combination specified"; said.Error() != want {
		t.Errorf("refusal says %q, want %q", said.Error(), want)
	}
	if slurm.ControllerTrouble(err) {
		t.Error("a refusal counted as controller trouble")
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests: a submit is never retried", n)
	}
}

func TestSubmitNeverAsRoot(t *testing.T) {
	c, f := newFake(t, map[string]route{"POST /slurm/v0.0.38/job/submit": {200, "submitted.json"}})
	for user, want := range map[string]string{
		"root": "never as root", "slurm": "never as root or the SlurmUser", "toor": "uid 0", "": "no POSIX user", "mallory": "unknown user",
	} {
		_, err := c.Submit(context.Background(), slurm.SubmitRequest{User: user, Text: script})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("submit as %q: %v, want %q", user, err, want)
		}
	}
	if _, err := c.Submit(context.Background(), slurm.SubmitRequest{User: "alice", Script: "/jobs/alice/x/job.sh"}); err == nil || !strings.Contains(err.Error(), "no script text") {
		t.Errorf("submit by path only: %v", err)
	}
	if _, err := c.Submit(context.Background(), slurm.SubmitRequest{User: "alice", Text: script, Args: []string{"--gpus=1"}}); err == nil || !strings.Contains(err.Error(), UnsupportedHint) {
		t.Errorf("submit with --gpus: %v", err)
	}
	wantCalls(t, f)
}
