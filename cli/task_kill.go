package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/client"
)

// killOptions are the arguments of `det notebook kill` and `det shell
// kill`.
type killOptions struct {
	kind  client.Kind
	ids   []string // ids or unique prefixes
	force bool     // go on past errors
}

// newKillCmd kills tasks of kind k.
func newKillCmd(g *globals, k client.Kind) *cobra.Command {
	o := &killOptions{kind: k}
	cmd := &cobra.Command{
		Use:               "kill ID...",
		Short:             "Kill " + k.Name + "s (a unique prefix of an id is enough)",
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: g.completeIDs(k),
		RunE: g.runE(func(ctx context.Context, c bridgeClient, args []string) error {
			o.ids = args
			return runKill(ctx, *o, c, g.con)
		}),
	}
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "go on past errors")
	return cmd
}

// runKill kills each task in turn; the first error stops it, unless
// force, which says each error and returns the first.
func runKill(ctx context.Context, o killOptions, c bridgeClient, con *console) error {
	var firstErr error
	for _, id := range o.ids {
		nb, err := c.Kill(ctx, o.kind, id)
		if err != nil {
			err = fmt.Errorf("kill %s: %w", id, err)
			if !o.force {
				return err
			}
			fmt.Fprintln(con.ErrOut, err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		fmt.Fprintf(con.Out, "Killed %s %s (%s)\n", o.kind.Name, nb.ID, nb.Description)
	}
	return firstErr
}
