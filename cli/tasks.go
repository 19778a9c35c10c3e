package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// waitRunning polls until the task is RUNNING, printing each state (with
// Slurm's reason) as it changes.
func waitRunning(cmd *cobra.Command, g *globals, c *client.Client, k client.Kind, nb *api.Notebook) (*api.Notebook, error) {
	last := ""
	for {
		shown := api.StateName(nb.State)
		if nb.Reason != "" && nb.State == api.StateQueued {
			shown += " (" + nb.Reason + ")"
		}
		if shown != last {
			fmt.Fprintf(g.io.Out, "%s ...\n", shown)
			last = shown
		}
		switch nb.State {
		case api.StateRunning:
			return nb, nil
		case api.StateTerminated, api.StateTerminating:
			return nil, fmt.Errorf("%s %s ended before it ran: %s (see `det %s logs %s`)", k.Name, nb.ID, nb.Reason, k.Name, shortID(nb.ID))
		}
		select {
		case <-cmd.Context().Done():
			return nil, cmd.Context().Err()
		case <-time.After(500 * time.Millisecond):
		}
		next, err := c.Get(cmd.Context(), k, nb.ID)
		if err != nil {
			return nil, err
		}
		nb = &next.Task
	}
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

// shortID is the part of an id people type.
func shortID(id string) string { return id[:min(len(id), 8)] }

// newListCmd lists the tasks of kind k.
func newListCmd(g *globals, k client.Kind) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List " + k.Name + "s",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			nbs, err := c.List(cmd.Context(), k)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(g.io.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(nbs)
			}
			warnIfStale(cmd, g, c)
			tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "Id\tOwner\tDescription\tRegistered Time\tState\tResource Pool\tSlots\tNode\tRemaining")
			for _, n := range nbs {
				state := stateText(n)
				if n.EstimatedStart != nil {
					state += ", starts about " + n.EstimatedStart.Local().Format("Jan 2 15:04")
				}
				remaining := ""
				if n.TimeRemainingSeconds != nil {
					remaining = (time.Duration(*n.TimeRemainingSeconds) * time.Second).String()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", n.ID, n.Username, n.Description,
					n.StartTime.Local().Format("2006-01-02 15:04:05"), state, n.ResourcePool, n.Slots, n.Node, remaining)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (Determined's objects)")
	return cmd
}

// newKillCmd kills tasks of kind k.
func newKillCmd(g *globals, k client.Kind) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:               "kill ID...",
		Short:             "Kill " + k.Name + "s (a unique prefix of an id is enough)",
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: g.completeIDs(k),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			var firstErr error
			for _, id := range args {
				nb, err := c.Kill(cmd.Context(), k, id)
				if err != nil {
					err = fmt.Errorf("kill %s: %w", id, err)
					if !force {
						return err
					}
					fmt.Fprintln(g.io.ErrOut, err)
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				fmt.Fprintf(g.io.Out, "Killed %s %s (%s)\n", k.Name, nb.ID, nb.Description)
			}
			return firstErr
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "go on past errors")
	return cmd
}

// newLogsCmd prints the logs of a task of kind k.
func newLogsCmd(g *globals, k client.Kind) *cobra.Command {
	var o client.LogOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:               "logs ID",
		Short:             "Print a " + k.Name + "'s logs: the bridge's events and the job's output",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeIDs(k),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			enc := json.NewEncoder(g.io.Out)
			return c.Logs(cmd.Context(), args[0], o, func(l api.TaskLog) error {
				if asJSON {
					return enc.Encode(l)
				}
				_, err := io.WriteString(g.io.Out, l.Message) // as Determined's CLI prints it, "\n" included
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&o.Follow, "follow", "f", false, "keep printing until the "+k.Name+" ends")
	cmd.Flags().IntVar(&o.Head, "head", 0, "print only the first N lines")
	cmd.Flags().IntVar(&o.Tail, "tail", 0, "print only the last N lines (with -f: start with them)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print each line as JSON")
	cmd.MarkFlagsMutuallyExclusive("head", "tail")
	return cmd
}

// newConfigCmd prints the merged config a task of kind k runs with.
func newConfigCmd(g *globals, k client.Kind) *cobra.Command {
	return &cobra.Command{
		Use:               "config ID",
		Short:             "Print the config a " + k.Name + " runs with",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeIDs(k),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			got, err := c.Get(cmd.Context(), k, args[0])
			if err != nil {
				return err
			}
			return printConfig(g, got.Config)
		},
	}
}

// completeIDs offers the ids of the user's live tasks of kind k for shell
// completion.
func (g *globals) completeIDs(k client.Kind) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return g.completeTasks(k, false)
}

// completeEnded offers the ids of the user's ended tasks of kind k.
func (g *globals) completeEnded(k client.Kind) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return g.completeTasks(k, true)
}

// completeTasks offers the ids of the user's tasks of kind k that have
// ended (ended true) or not.
func (g *globals) completeTasks(k client.Kind, ended bool) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		c, err := g.client(cmd.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		nbs, err := c.List(cmd.Context(), k)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var ids []string
		for _, n := range nbs {
			if api.Terminal(n.State) == ended {
				ids = append(ids, n.ID+"\t"+n.Description)
			}
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
}

// warnIfStale tells the user when the bridge cannot reach Slurm, so the
// states shown may be out of date.
func warnIfStale(cmd *cobra.Command, g *globals, c *client.Client) {
	var m api.Master
	if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/master", nil, &m); err != nil || m.Slurm == nil || !m.Slurm.Stale {
		return
	}
	since := ""
	if m.Slurm.Since != nil {
		since = " since " + m.Slurm.Since.Local().Format("15:04:05")
	}
	fmt.Fprintf(g.io.ErrOut, "Warning: the bridge cannot reach Slurm%s (%s); states below may be out of date.\n", since, m.Slurm.Error)
}
