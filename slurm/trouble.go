package slurm

import (
	"context"
	"errors"
	"strings"
)

// controllerTroubleSays are what Slurm's tools print when they could not
// reach slurmctld, or it did not answer in time.
var controllerTroubleSays = []string{"Unable to contact slurm controller", "Socket timed out", "Zero Bytes were transmitted", "Connection refused", "Connection timed out"}

// ControllerTrouble reports whether a failed Slurm command may not have
// reached the controller (a time-out or a connection error), as opposed
// to a refusal.
func ControllerTrouble(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
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
