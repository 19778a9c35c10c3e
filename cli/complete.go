package cli

import (
	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// completeIDs offers the ids of the user's live tasks of kind k for shell
// completion.
func (g *globals) completeIDs(k client.Kind) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return g.completeTasks(k, false)
}

// completeEnded offers the ids of the user's ended tasks of kind k.
func (g *globals) completeEnded(k client.Kind) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return g.completeTasks(k, true)
}

// completeTasks offers the ids of the user's tasks of kind k that have
// ended (ended true) or not.
func (g *globals) completeTasks(k client.Kind, ended bool) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		c, err := g.client(cmd.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		nbs, err := c.List(cmd.Context(), k)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var ids []string
		for _, n := range nbs {
			if api.Terminal(n.State) == ended {
				ids = append(ids, n.ID+"\t"+n.Description)
			}
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
}
