package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/client"
)

// newExtendCmd adds time to a running task of kind k.
func newExtendCmd(g *globals, k client.Kind) *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use:               "extend ID --by DURATION",
		Short:             "Add time to a running " + k.Name + "'s time limit, within its pool's policy",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeIDs(k),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			nb, x, err := c.Extend(cmd.Context(), k, args[0], by)
			if err != nil {
				return fmt.Errorf("extend %s: %w", args[0], err)
			}
			left := ""
			if nb.TimeRemainingSeconds != nil {
				left = ", " + (time.Duration(*nb.TimeRemainingSeconds) * time.Second).String() + " left"
			}
			count := fmt.Sprintf("extension %d", x.Extensions)
			if x.MaxExtensions > 0 {
				count += fmt.Sprintf(" of %d", x.MaxExtensions)
			}
			fmt.Fprintf(g.io.Out, "Extended %s %s (%s) by %s: its time limit is now %s%s (%s)\n", k.Name, nb.ID, nb.Description,
				minutes(x.AddedSeconds), minutes(x.TimeLimitSeconds), left, count)
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", "", `time to add: a duration ("1h", "30m") or minutes`)
	_ = cmd.MarkFlagRequired("by")
	return cmd
}

// newRelaunchCmd starts an ended task of kind k again.
func newRelaunchCmd(g *globals, k client.Kind) *cobra.Command {
	var detach, noBrowser bool
	cmd := &cobra.Command{
		Use:               "relaunch ID",
		Short:             "Start an ended " + k.Name + " again, with its config, pool and context files",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeEnded(k),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			r, err := c.Relaunch(cmd.Context(), k, args[0])
			if err != nil {
				return fmt.Errorf("relaunch %s: %w", args[0], err)
			}
			for _, w := range r.Warnings {
				fmt.Fprintln(g.io.ErrOut, "Warning: "+w)
			}
			nb := &r.Task
			if detach {
				fmt.Fprintln(g.io.Out, nb.ID)
				return nil
			}
			fmt.Fprintf(g.io.Out, "Scheduling %s %s (id: %s), which replaces %s...\n", k.Name, nb.Description, nb.ID, r.Replaces)
			nb, err = waitRunning(cmd, g, c, k, nb)
			if err != nil {
				return err
			}
			if k == client.ShellKind {
				return attachShell(cmd.Context(), g, c, nb.ID)
			}
			address := strings.TrimSuffix(c.Master, "/") + nb.ServiceAddress
			fmt.Fprintf(g.io.Out, "Jupyter Notebook is running at: %s\n", address)
			if !noBrowser {
				openBrowser(address)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "print the new id and return at once")
	if k == client.NotebookKind {
		cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "do not open a browser when the notebook is ready")
	}
	return cmd
}

// minutes writes seconds as whole minutes the way people say them: "45m",
// "1h", "2h30m".
func minutes(sec int64) string {
	m := sec / 60
	switch {
	case m >= 60 && m%60 != 0:
		return fmt.Sprintf("%dh%dm", m/60, m%60)
	case m >= 60:
		return fmt.Sprintf("%dh", m/60)
	}
	return fmt.Sprintf("%dm", m)
}
