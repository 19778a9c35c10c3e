package slurm

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestCommandErrorText: a failed command is named once, and Slurm's error
// lines stand without the warnings around them.
func TestCommandErrorText(t *testing.T) {
	exit1 := errors.New("exit status 1")
	cases := []struct {
		e    CommandError
		want string
	}{
		{CommandError{Cmd: "sbatch", Stderr: "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified\n", Err: exit1},
			"sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified"},
		{CommandError{Cmd: "sbatch", Stderr: "sbatch: warning: something odd\nsbatch: error: QOSMaxGRESPerUser\nsbatch: error: Batch job submission failed: Job violates accounting/QOS policy\n", Err: exit1},
			"sbatch: error: QOSMaxGRESPerUser; sbatch: error: Batch job submission failed: Job violates accounting/QOS policy"},
		{CommandError{Cmd: "squeue", Stderr: "slurm_load_jobs error: Invalid job id specified\n", Err: exit1},
			"squeue: slurm_load_jobs error: Invalid job id specified"},
		{CommandError{Cmd: "sbatch", Stderr: "runuser: user nobody2 does not exist\n", Err: exit1},
			"sbatch: runuser: user nobody2 does not exist"},
		{CommandError{Cmd: "/opt/det/det-launcher", Stderr: "line one\n\nline two\n", Err: exit1},
			"det-launcher: line one; line two"},
		{CommandError{Cmd: "sinfo", Err: exit1}, "sinfo: exit status 1"},
	}
	for _, c := range cases {
		if got := c.e.Error(); got != c.want {
			t.Errorf("%+v:\n got %s\nwant %s", c.e, got, c.want)
		}
	}
}

// TestSubmitRefusedText: a refused sbatch reads as the client's word and
// Slurm's line, each once, whether the runner is a stub or the real one.
func TestSubmitRefusedText(t *testing.T) {
	line := "sbatch: error: Batch job submission failed: Invalid partition name specified"
	want := "submit batch job: " + line
	stub := &StubRunner{Stubs: []Stub{{Name: "sbatch", Prefix: []string{"--parsable", "-p", "nope"},
		Err: &CommandError{Cmd: "sbatch", Stderr: line + "\n", Err: errors.New("exit status 1")}}}}
	c := &CLI{Runner: stub}
	_, err := c.Submit(context.Background(), SubmitRequest{Script: "/j/job.sh", Args: []string{"-p", "nope"}})
	var ce *CommandError
	if err == nil || err.Error() != want || !errors.As(err, &ce) || ce.Cmd != "sbatch" {
		t.Fatalf("stub: %v", err)
	}
	if u := stub.Unused(); len(u) != 0 {
		t.Fatalf("unused stubs %v", u)
	}

	sh, lookErr := exec.LookPath("sh")
	if lookErr != nil {
		t.Skip("no sh to stand in for sbatch")
	}
	// The real runner, with sh standing in for sbatch and printing its line.
	_, err = ExecRunner{}.Run(context.Background(), Cmd{Name: sh, Args: []string{"-c", `echo "sh: error: Batch job submission failed: Invalid partition name specified" >&2; exit 1`}})
	if got := err.Error(); got != "sh: error: Batch job submission failed: Invalid partition name specified" || strings.Count(got, "sh:") != 1 {
		t.Fatalf("exec: %q", got)
	}
}
