package main

import (
	"fmt"

	"github.com/det-slurm/bridge/bridge"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
	"github.com/det-slurm/bridge/slurm/rest"
)

var (
	_ bridge.Slurm = (*slurm.CLI)(nil)
	_ bridge.Slurm = (*rest.Client)(nil)
)

// clusterSlurm makes how the bridge reaches cluster ("" the local one),
// as the site config says: the Slurm commands (with -M for another
// cluster), or the cluster's slurmrestd.
func clusterSlurm(cfg *siteconfig.Config, cluster string) (bridge.Slurm, error) {
	iface, r := cfg.InterfaceOf(cluster)
	if iface == siteconfig.SlurmInterfaceREST {
		c, err := rest.New(rest.Config{URL: r.URL, KeyFile: r.JWTKey, User: r.User, Timeout: r.TimeoutDuration, Env: cfg.SlurmEnv})
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", cfg.ClusterLabel(cluster), err)
		}
		return c, nil
	}
	cli := slurm.NewCLI(slurm.BaseEnv(cfg.SlurmEnv))
	cli.Cluster = cluster
	return cli, nil
}

// countCommands counts sl's Slurm commands in the bridge's metrics where
// sl runs commands.
func countCommands(srv *bridge.Server, sl bridge.Slurm) {
	if cli, ok := sl.(*slurm.CLI); ok {
		cli.Runner = srv.Metrics().Runner(cli.Runner)
	}
}
