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
	var showSSH bool
	start := &cobra.Command{
		Use:   "start",
		Short: "Start a shell as a Slurm job and attach to it (~. detaches)",
		Args:  cobra.NoArgs,
		RunE: g.startRunE(o, k, func(ctx context.Context, lo launchOptions, c bridgeClient, con *console) error {
			var ssh *sshSetup
			if showSSH {
				s, err := g.sshSetup()
				if err != nil {
					return err
				}
				ssh = &s
			}
			return runStartShell(ctx, lo, ssh, c, con)
		}),
	}
	o.addConfigFlags(start)
	start.Flags().BoolVar(&showSSH, "show-ssh-command", false, "print an ssh command line that reaches the shell (see show_ssh_command) to standard error")
	cmd.AddCommand(start, newOpenShellCmd(g), newListCmd(g, k), newKillCmd(g, k), newLogsCmd(g, k), newConfigCmd(g, k),
		newExtendCmd(g, k), newRelaunchCmd(g, k), newShowSSHCommandCmd(g), newShellTunnelCmd(g))
	return cmd
}

// runStartShell launches a shell, waits until it runs and attaches to it;
// or prints its id (detach). With ssh, it first prints an ssh command line
// that reaches the shell to standard error (or why it cannot).
func runStartShell(ctx context.Context, o launchOptions, ssh *sshSetup, c bridgeClient, con *console) error {
	launched, err := c.Launch(ctx, client.ShellKind, o.request)
	if err != nil {
		return err
	}
	sh := &launched.Task
	if !o.detach {
		fmt.Fprintf(con.ErrOut, "Scheduling shell %s (id: %s)...\n", sh.Description, sh.ID)
		if _, err := waitRunning(ctx, c, client.ShellKind, sh, con.Out); err != nil {
			return err
		}
	}
	if ssh != nil {
		if err := printSSHCommand(*ssh, launched, con); err != nil {
			fmt.Fprintf(con.ErrOut, "warning: no ssh command line: %v\n", err) // the shell runs on
		}
	}
	if o.detach {
		fmt.Fprintln(con.Out, sh.ID)
		return nil
	}
	return attachShell(ctx, c, con, sh.ID)
}

// printSSHCommand writes the key of a launched shell and prints the ssh
// command line that reaches it to standard error.
func printSSHCommand(ssh sshSetup, launched *client.Launched, con *console) error {
	if launched.Shell == nil {
		return fmt.Errorf("the bridge's answer for shell %s has no SSH key", launched.Task.ID)
	}
	cmd, err := ssh.prepare(launched.Shell)
	if err != nil {
		return err
	}
	fmt.Fprintln(con.ErrOut, cmd.line())
	return nil
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
