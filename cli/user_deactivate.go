package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/api"
)

// deactivateOptions are the arguments of `det user deactivate`.
type deactivateOptions struct {
	username string
}

func newDeactivateCmd(g *globals) *cobra.Command {
	o := &deactivateOptions{}
	return &cobra.Command{
		Use:   "deactivate USERNAME",
		Short: "Deactivate a user and revoke its tokens (admin only)",
		Args:  cobra.ExactArgs(1),
		RunE: g.runE(func(ctx context.Context, c bridgeClient, args []string) error {
			o.username = args[0]
			return runDeactivate(ctx, *o, c, g.con)
		}),
	}
}

// runDeactivate deactivates the user.
func runDeactivate(ctx context.Context, o deactivateOptions, c bridgeClient, con *console) error {
	off := false
	if _, err := c.PatchUserByName(ctx, o.username, api.PatchUser{Active: &off}); err != nil {
		return err
	}
	fmt.Fprintf(con.Out, "Deactivated %s.\n", o.username)
	return nil
}
