package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/client"
)

func newShellCmd(g *globals) *cobra.Command {
	k := client.ShellKind
	cmd := &cobra.Command{Use: "shell", Aliases: []string{"shells"}, Short: "An interactive shell in a Slurm allocation, in the notebook's container"}
	o := &startOptions{}
	start := &cobra.Command{
		Use:   "start",
		Short: "Start a shell as a Slurm job and attach to it (~. detaches)",
		Args:  cobra.NoArgs,
		RunE:  g.startRunE(o, k, runStartShell),
	}
	o.addConfigFlags(start)
	cmd.AddCommand(start, newOpenShellCmd(g), newListCmd(g, k), newKillCmd(g, k), newLogsCmd(g, k), newConfigCmd(g, k),
		newExtendCmd(g, k), newRelaunchCmd(g, k))
	return cmd
}

// runStartShell launches a shell, waits until it runs and attaches to it;
// or prints its id (detach).
func runStartShell(ctx context.Context, o launchOptions, c bridgeClient, con *console) error {
	launched, err := c.Launch(ctx, client.ShellKind, o.request)
	if err != nil {
		return err
	}
	sh := &launched.Task
	if o.detach {
		fmt.Fprintln(con.Out, sh.ID)
		return nil
	}
	fmt.Fprintf(con.ErrOut, "Scheduling shell %s (id: %s)...\n", sh.Description, sh.ID)
	if _, err := waitRunning(ctx, c, client.ShellKind, sh, con.Out); err != nil {
		return err
	}
	return attachShell(ctx, c, con, sh.ID)
}

// openShellOptions are the arguments of `det shell open`.
type openShellOptions struct {
	id string // an id or a unique prefix
}

func newOpenShellCmd(g *globals) *cobra.Command {
	o := &openShellOptions{}
	return &cobra.Command{
		Use:               "open ID",
		Short:             "Attach to a running shell again",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeIDs(client.ShellKind),
		RunE: g.runE(func(ctx context.Context, c bridgeClient, args []string) error {
			o.id = args[0]
			return runOpenShell(ctx, *o, c, g.con)
		}),
	}
}

// runOpenShell attaches to a running shell.
func runOpenShell(ctx context.Context, o openShellOptions, c bridgeClient, con *console) error {
	got, err := c.Get(ctx, client.ShellKind, o.id)
	if err != nil {
		return err
	}
	return attachShell(ctx, c, con, got.Task.ID)
}
