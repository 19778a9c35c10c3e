package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

// checkConfigOptions are the arguments of `det-bridge check-config`.
type checkConfigOptions struct {
	file    string // the site config to check
	offline bool   // ask Slurm nothing; missing paths are warnings
	// nodes asks a cluster's Slurm ("" the local one) for its nodes; nil
	// means slurmNodes (tests set a fake).
	nodes func(ctx context.Context, cfg *siteconfig.Config, cluster string) ([]slurm.Node, error)
}

// slurmNodes asks one of the site's clusters for its nodes, as the
// bridge would (sinfo, or its slurmrestd).
func slurmNodes(ctx context.Context, cfg *siteconfig.Config, cluster string) ([]slurm.Node, error) {
	sl, err := clusterSlurm(cfg, cluster)
	if err != nil {
		return nil, err
	}
	return sl.Nodes(ctx)
}

func newCheckConfigCmd(g *globalOptions) *cobra.Command {
	o := &checkConfigOptions{}
	cmd := &cobra.Command{
		Use:   "check-config [--offline] SITE.yaml",
		Short: "Validate a site config (its pools against Slurm unless --offline); for a Determined master.yaml, show what each field became",
		Args: func(cmd *cobra.Command, args []string) error {
			if g.config != "" {
				return namedArgs()(cmd, args) // the file given as --config
			}
			return namedArgs("SITE.yaml")(cmd, args)
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.file = g.config
			if len(args) == 1 {
				o.file = args[0]
			}
			return runCheckConfig(cmd.Context(), *o, streamsOf(cmd))
		},
	}
	cmd.Flags().BoolVar(&o.offline, "offline", false, "do not ask Slurm; report missing paths as warnings")
	return cmd
}

// runCheckConfig validates a site config: its schema, its paths and
// (unless offline) its pools against Slurm.
func runCheckConfig(ctx context.Context, o checkConfigOptions, s streams) error {
	cfg, err := siteconfig.Load(o.file)
	if err != nil {
		return err
	}
	if cfg.Determined != nil {
		fmt.Fprintln(s.out, o.file+": a Determined master.yaml; its fields map to these bridge settings:")
		for _, m := range cfg.Determined {
			fmt.Fprintln(s.out, "  "+m.String())
		}
	}
	missing := cfg.MissingPaths()
	for _, m := range missing {
		fmt.Fprintf(s.err, "%s: warning: %s\n", o.file, m)
	}
	if !o.offline {
		if len(missing) > 0 {
			return fmt.Errorf("%s: %d configured paths do not exist", o.file, len(missing))
		}
		if err := checkPools(ctx, o, cfg); err != nil {
			return fmt.Errorf("%s: %w", o.file, err)
		}
	}
	fmt.Fprintln(s.out, o.file+": OK")
	return nil
}

// checkPools checks the site's pools against each cluster's partitions,
// as the bridge does when it starts.
func checkPools(ctx context.Context, o checkConfigOptions, cfg *siteconfig.Config) error {
	nodesOf := o.nodes
	if nodesOf == nil {
		nodesOf = slurmNodes
	}
	byCluster := map[string][]slurm.Node{}
	for _, name := range cfg.ClusterNames() {
		nodes, err := nodesOf(ctx, cfg, name)
		if err != nil {
			if name != "" {
				return fmt.Errorf("ask Slurm cluster %s for its partitions: %w", name, err)
			}
			return fmt.Errorf("ask Slurm for its partitions: %w", err)
		}
		byCluster[name] = nodes
	}
	_, err := siteconfig.SettleClusterPools(cfg, byCluster)
	return err
}
