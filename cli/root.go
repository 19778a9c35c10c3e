// Package cli holds the cobra commands of `det`, the command-line client of
// the bridge. All output goes through the injected streams.
package cli

import (
	"bufio"
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

// globals are the flags every command shares.
type globals struct {
	io      IO
	master  string
	authDir string // where tokens are kept; default ~/.det
	// in reads piped secrets line by line; made on first use.
	in *bufio.Reader
}

// NewRoot returns the `det` command.
func NewRoot(streams IO) *cobra.Command {
	g := &globals{io: streams}
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
	root := NewRoot(streams)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		fmt.Fprintln(streams.ErrOut, "Error:", err)
		if errors.Is(err, client.ErrUnauthorized) {
			fmt.Fprintln(streams.ErrOut, "Log in with `det user login`, or set DET_USER and DET_PASS.")
		}
		return 1
	}
	return 0
}
