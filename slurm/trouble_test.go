package slurm

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestControllerTrouble: a time-out or a connection error may not have
// reached slurmctld; a refusal did.
func TestControllerTrouble(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{context.DeadlineExceeded, true},
		{fmt.Errorf("submit batch job: %w", &CommandError{Cmd: "sbatch", Err: context.DeadlineExceeded}), true},
		{&CommandError{Cmd: "sbatch", Stderr: "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)", Err: errors.New("exit status 1")}, true},
		{&CommandError{Cmd: "squeue", Stderr: "squeue: error: slurm_load_jobs error: Socket timed out on send/recv operation", Err: errors.New("exit status 1")}, true},
		{errors.New("Zero Bytes were transmitted or received"), true},
		{errors.New("connect: Connection refused"), true},
		{errors.New("Connection timed out"), true},
		{&CommandError{Cmd: "sbatch", Stderr: "sbatch: error: Batch job submission failed: Invalid partition name specified", Err: errors.New("exit status 1")}, false},
		{errors.New("timed out"), false},
	} {
		if got := ControllerTrouble(c.err); got != c.want {
			t.Errorf("ControllerTrouble(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
