package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/client"
)

// configOptions are the arguments of `det notebook config` and `det
// shell config`.
type configOptions struct {
	kind client.Kind
	id   string
}

// newConfigCmd prints the merged config a task of kind k runs with.
func newConfigCmd(g *globals, k client.Kind) *cobra.Command {
	o := &configOptions{kind: k}
	return &cobra.Command{
		Use:               "config ID",
		Short:             "Print the config a " + k.Name + " runs with",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeIDs(k),
		RunE: g.runE(func(ctx context.Context, c bridgeClient, args []string) error {
			o.id = args[0]
			return runConfig(ctx, *o, c, g.con)
		}),
	}
}

// runConfig prints the task's merged config as YAML.
func runConfig(ctx context.Context, o configOptions, c bridgeClient, con *console) error {
	got, err := c.Get(ctx, o.kind, o.id)
	if err != nil {
		return err
	}
	return con.printConfig(got.Config)
}
