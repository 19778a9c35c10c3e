package cli

import (
	"context"

	"github.com/spf13/cobra"
)

// newListVerb is the `list` verb every listing command shares: alias ls,
// no arguments, --json setting *asJSON (described by jsonHelp), and run.
func newListVerb(g *globals, short string, asJSON *bool, jsonHelp string, run func(ctx context.Context, c bridgeClient) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   short,
		Args:    cobra.NoArgs,
		RunE: g.runE(func(ctx context.Context, c bridgeClient, _ []string) error {
			return run(ctx, c)
		}),
	}
	cmd.Flags().BoolVar(asJSON, "json", false, jsonHelp)
	return cmd
}
