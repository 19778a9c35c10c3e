package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/client"
)

// relaunchOptions are the arguments of `det notebook|shell relaunch`.
type relaunchOptions struct {
	kind      client.Kind
	id        string
	detach    bool // print the new id and return at once
	noBrowser bool // notebooks: open no browser
}

// newRelaunchCmd starts an ended task of kind k again.
func newRelaunchCmd(g *globals, k client.Kind) *cobra.Command {
	o := &relaunchOptions{kind: k}
	cmd := &cobra.Command{
		Use:               "relaunch ID",
		Short:             "Start an ended " + k.Name + " again, with its config, pool and context files",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeEnded(k),
		RunE: g.runE(func(ctx context.Context, c bridgeClient, args []string) error {
			o.id = args[0]
			return runRelaunch(ctx, *o, c, g.con)
		}),
	}
	cmd.Flags().BoolVarP(&o.detach, "detach", "d", false, "print the new id and return at once")
	if k == client.NotebookKind {
		cmd.Flags().BoolVar(&o.noBrowser, "no-browser", false, "do not open a browser when the notebook is ready")
	}
	return cmd
}

// runRelaunch starts the ended task again, says what it could not carry
// over and which task it replaces, and waits until the new one runs: a
// shell is attached to, a notebook's address is shown.
func runRelaunch(ctx context.Context, o relaunchOptions, c bridgeClient, con *console) error {
	r, err := c.Relaunch(ctx, o.kind, o.id)
	if err != nil {
		return fmt.Errorf("relaunch %s: %w", o.id, err)
	}
	for _, w := range r.Warnings {
		fmt.Fprintln(con.ErrOut, "Warning: "+w)
	}
	nb := &r.Task
	if o.detach {
		fmt.Fprintln(con.Out, nb.ID)
		return nil
	}
	fmt.Fprintf(con.Out, "Scheduling %s %s (id: %s), which replaces %s...\n", o.kind.Name, nb.Description, nb.ID, r.Replaces)
	nb, err = waitRunning(ctx, c, o.kind, nb, con.Out)
	if err != nil {
		return err
	}
	if o.kind == client.ShellKind {
		return attachShell(ctx, c, con, nb.ID)
	}
	showNotebook(c, con, nb.ServiceAddress, o.noBrowser)
	return nil
}
