package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// listAgentsOptions are the flags of `det agent list`.
type listAgentsOptions struct {
	json bool
}

// newAgentCmd is `det agent list`: the Slurm nodes of the pools.
func newAgentCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "agent", Aliases: []string{"a"}, Short: "List the agents (the Slurm nodes of the resource pools)"}
	o := &listAgentsOptions{}
	list := newListVerb(g, "List the agents with their slots, pools and Slurm state", &o.json, "print JSON", func(ctx context.Context, c bridgeClient) error {
		return runListAgents(ctx, *o, c, g.con)
	})
	cmd.AddCommand(list)
	return cmd
}

// runListAgents prints the agents.
func runListAgents(ctx context.Context, o listAgentsOptions, c bridgeClient, con *console) error {
	agents, err := c.Agents(ctx)
	if err != nil {
		return err
	}
	if o.json {
		return con.printJSON(agents)
	}
	tw := tabwriter.NewWriter(con.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Agent ID\tSlots\tContainers\tResource Pool\tEnabled\tDraining\tAddresses\tSlurm State")
	for _, a := range agents {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%t\t%t\t%s\t%s\n", a.ID, len(a.Slots), len(a.Containers), strings.Join(a.ResourcePools, ", "),
			a.Enabled, a.Draining, strings.Join(a.Addresses, ", "), a.SlurmState)
	}
	return tw.Flush()
}
