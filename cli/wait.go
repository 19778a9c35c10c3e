package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// pollInterval is how often waitRunning asks for a task's state.
var pollInterval = 500 * time.Millisecond

// waitRunning polls until the task is RUNNING, printing each state (with
// Slurm's reason) to out as it changes.
func waitRunning(ctx context.Context, c bridgeClient, k client.Kind, nb *api.Notebook, out io.Writer) (*api.Notebook, error) {
	last := ""
	for {
		shown := api.StateName(nb.State)
		if nb.Reason != "" && nb.State == api.StateQueued {
			shown += " (" + nb.Reason + ")"
		}
		if shown != last {
			fmt.Fprintf(out, "%s ...\n", shown)
			last = shown
		}
		switch nb.State {
		case api.StateRunning:
			return nb, nil
		case api.StateTerminated, api.StateTerminating:
			return nil, fmt.Errorf("%s %s ended before it ran: %s (see `det %s logs %s`)", k.Name, nb.ID, nb.Reason, k.Name, shortID(nb.ID))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pollInterval):
		}
		next, err := c.Get(ctx, k, nb.ID)
		if err != nil {
			return nil, err
		}
		nb = &next.Task
	}
}

// shortID is the part of an id people type.
func shortID(id string) string { return id[:min(len(id), 8)] }
