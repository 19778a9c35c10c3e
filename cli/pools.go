package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newResourcePoolCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "resource-pool", Aliases: []string{"rp"}, Short: "Resource pools (Slurm partitions) and what is free in them"}
	var asJSON bool
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the pools with their nodes, GPUs, CPUs and notebooks",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			pools, err := c.ResourcePools(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return g.printJSON(pools)
			}
			tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
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
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(list)
	return cmd
}

// printJSON prints v indented, as every --json of the CLI does.
func (g *globals) printJSON(v any) error {
	enc := json.NewEncoder(g.io.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
