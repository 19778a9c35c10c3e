package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// listPoolsOptions are the flags of `det resource-pool list`.
type listPoolsOptions struct {
	json bool
}

func newResourcePoolCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "resource-pool", Aliases: []string{"rp"}, Short: "Resource pools (Slurm partitions) and what is free in them"}
	o := &listPoolsOptions{}
	list := newListVerb(g, "List the pools with their nodes, GPUs, CPUs and notebooks", &o.json, "print JSON", func(ctx context.Context, c bridgeClient) error {
		return runListPools(ctx, *o, c, g.con)
	})
	cmd.AddCommand(list)
	return cmd
}

// runListPools prints the pools and what is free in them.
func runListPools(ctx context.Context, o listPoolsOptions, c bridgeClient, con *console) error {
	pools, err := c.ResourcePools(ctx)
	if err != nil {
		return err
	}
	if o.json {
		return con.printJSON(pools)
	}
	tw := tabwriter.NewWriter(con.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Name\tPartition\tDefault\tNodes Up\tGPUs Used/Total\tGPU Type\tCPUs Used/Total\tNotebooks Running\tQueued\tDescription")
	for _, p := range pools {
		def := ""
		switch {
		case p.DefaultComputePool && p.DefaultAuxPool:
			def = "compute, aux"
		case p.DefaultComputePool:
			def = "compute"
		case p.DefaultAuxPool:
			def = "aux"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%d/%d\t%s\t%d/%d\t%d\t%d\t%s\n", p.Name, p.Partition, def, p.NodesUp, p.NumAgents,
			p.GPUsUsed, p.GPUsTotal, p.GPUType, p.CPUsUsed, p.CPUsTotal, p.NotebooksRunning, p.NotebooksQueued, p.Description)
	}
	return tw.Flush()
}
