package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// whoamiOptions are the options of `det user whoami`: it has none.
type whoamiOptions struct{}

func newWhoamiCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Print the user you are logged in as",
		Args:  cobra.NoArgs,
		RunE: g.runE(func(ctx context.Context, c bridgeClient, _ []string) error {
			return runWhoami(ctx, whoamiOptions{}, c, g.con)
		}),
	}
}

// runWhoami prints the user c is logged in as.
func runWhoami(ctx context.Context, _ whoamiOptions, c bridgeClient, con *console) error {
	me, err := c.Me(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(con.Out, "You are logged in as user %q\n", me.Username)
	return nil
}
