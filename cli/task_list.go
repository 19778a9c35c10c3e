package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// listOptions are the flags of `det notebook list` and `det shell list`.
type listOptions struct {
	kind client.Kind
	json bool // Determined's objects
}

// newListCmd lists the tasks of kind k.
func newListCmd(g *globals, k client.Kind) *cobra.Command {
	o := &listOptions{kind: k}
	cmd := newListVerb(g, "List "+k.Name+"s", &o.json, "print JSON (Determined's objects)", func(ctx context.Context, c bridgeClient) error {
		return runList(ctx, *o, c, g.con)
	})
	return cmd
}

// runList prints the tasks of a kind: a table (after a warning when the
// bridge cannot reach Slurm; with a Cluster column on a site of several
// Slurm clusters), or JSON.
func runList(ctx context.Context, o listOptions, c bridgeClient, con *console) error {
	nbs, err := c.List(ctx, o.kind)
	if err != nil {
		return err
	}
	if o.json {
		return con.printJSON(nbs)
	}
	m := warnIfStale(ctx, c, con)
	clusters := m != nil && len(m.SlurmClusters) > 1
	tw := tabwriter.NewWriter(con.Out, 0, 4, 2, ' ', 0)
	head := "Id\tOwner\tDescription\tRegistered Time\tState\tResource Pool\tSlots\tNode\tRemaining"
	if clusters {
		head = "Id\tOwner\tDescription\tRegistered Time\tState\tCluster\tResource Pool\tSlots\tNode\tRemaining"
	}
	fmt.Fprintln(tw, head)
	for _, n := range nbs {
		state := stateText(n)
		if n.EstimatedStart != nil {
			state += ", starts about " + n.EstimatedStart.Local().Format("Jan 2 15:04")
		}
		remaining := ""
		if n.TimeRemainingSeconds != nil {
			remaining = (time.Duration(*n.TimeRemainingSeconds) * time.Second).String()
		}
		if clusters {
			state += "\t" + n.Cluster
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", n.ID, n.Username, n.Description,
			n.StartTime.Local().Format("2006-01-02 15:04:05"), state, n.ResourcePool, n.Slots, n.Node, remaining)
	}
	return tw.Flush()
}

// stateText is a task's state as a list shows it: with Slurm's reason,
// or, for a running task the proxy cannot reach, since when and why.
func stateText(n api.Notebook) string {
	state := api.StateName(n.State)
	switch {
	case n.Unreachable != nil:
		state += fmt.Sprintf(" (unreachable since %s: %s)", n.Unreachable.Since.Local().Format("15:04:05"), n.Unreachable.Reason)
	case n.Reason != "":
		state += " (" + n.Reason + ")"
	}
	return state
}

// warnIfStale tells the user when the bridge cannot reach Slurm (one of
// its clusters), so the states shown may be out of date. It returns the
// bridge's description, nil when it could not be read.
func warnIfStale(ctx context.Context, c bridgeClient, con *console) *api.Master {
	m, err := c.MasterInfo(ctx)
	if err != nil {
		return nil
	}
	if m.Slurm == nil || !m.Slurm.Stale {
		return m
	}
	since := ""
	if m.Slurm.Since != nil {
		since = " since " + m.Slurm.Since.Local().Format("15:04:05")
	}
	fmt.Fprintf(con.ErrOut, "Warning: the bridge cannot reach Slurm%s (%s); states below may be out of date.\n", since, m.Slurm.Error)
	return m
}
