package slurm

import (
	"context"
	"errors"
	"strings"
)

// controllerTroubleSays are what Slurm's tools print when they could not
// reach slurmctld, or it did not answer in time.
var controllerTroubleSays = []string{"Unable to contact slurm controller", "Socket timed out", "Zero Bytes were transmitted", "Connection refused", "Connection timed out"}

// troubleTeller is an error that knows whether it may not have reached
// the controller (slurmrestd's client says so of a connection that failed).
type troubleTeller interface {
	ControllerTrouble() bool
}

// ControllerTrouble reports whether a failed Slurm command may not have
// reached the controller (a time-out or a connection error), as opposed
// to a refusal.
func ControllerTrouble(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var tt troubleTeller
	if errors.As(err, &tt) && tt.ControllerTrouble() {
		return true
	}
	msg := err.Error()
	for _, m := range controllerTroubleSays {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// Said is a failure in Slurm's own words: a tool's standard error
// (CommandError) or the errors slurmrestd answered (package slurm/rest).
// Error names the speaker ("sbatch: error: ...", "slurmrestd: ...");
// Said is the words alone.
type Said interface {
	error
	Said() string
}

var _ Said = (*CommandError)(nil)
