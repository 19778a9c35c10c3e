// Package cli holds the cobra commands of `det`, the command-line client of
// the bridge. Each verb is an options struct and a run function that takes
// the options, the bridge's client (bridgeClient) and the console it
// writes to; all output goes through the injected streams.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/client"
)

// IO are the streams a command reads and writes.
type IO struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// globals are what every command shares: the streams, the bridge's
// address, the saved tokens and how to make a client.
type globals struct {
	con    *console
	master string
	tokens tokenFile
	// newClient makes a client of the bridge at master with token ("" for
	// none): client.New, or a fake in tests.
	newClient func(master, token string) bridgeClient
}

// NewRoot returns the `det` command.
func NewRoot(streams IO) *cobra.Command {
	return newRoot(streams, func(master, token string) bridgeClient { return client.New(master, token) })
}

func newRoot(streams IO, newClient func(master, token string) bridgeClient) *cobra.Command {
	g := &globals{con: newConsole(streams), newClient: newClient}
	root := &cobra.Command{
		Use:           "det",
		Short:         "Run Jupyter notebooks on the cluster through the bridge",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetIn(streams.In)
	defMaster := os.Getenv("DET_MASTER")
	if defMaster == "" {
		defMaster = "http://127.0.0.1:8080"
	}
	root.PersistentFlags().StringVarP(&g.master, "master", "m", defMaster, "address of the bridge (env DET_MASTER)")
	root.AddCommand(newNotebookCmd(g), newUserCmd(g), newResourcePoolCmd(g), newShellCmd(g))
	root.AddCommand(newTaskCmd(g), newAgentCmd(g), newSlotCmd(g), newAuditCmd(g))
	return root
}

// Execute runs the CLI and returns the process exit code.
func Execute(ctx context.Context, args []string, streams IO) int {
	return execute(ctx, NewRoot(streams), args, streams.ErrOut)
}

// execute runs root with args and returns the exit code, saying why on
// errOut when it is not 0.
func execute(ctx context.Context, root *cobra.Command, args []string, errOut io.Writer) int {
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		fmt.Fprintln(errOut, "Error:", err)
		if errors.Is(err, client.ErrUnauthorized) {
			fmt.Fprintln(errOut, "Log in with `det user login`, or set DET_USER and DET_PASS.")
		}
		return 1
	}
	return 0
}

// runE is a command's RunE: it logs in to the bridge, then runs run with
// the client.
func (g *globals) runE(run func(ctx context.Context, c bridgeClient, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := g.client(cmd.Context())
		if err != nil {
			return err
		}
		return run(cmd.Context(), c, args)
	}
}
