package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/bridge"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

// serveOptions are the flags of `det-bridge serve` (and of det-bridge on
// its own).
type serveOptions struct {
	config    string
	proxyMode string // overrides the site config's proxy_mode when set
}

func newServeCmd(g *globalOptions) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve --config SITE.yaml [--proxy-mode MODE]",
		Short: "Serve the REST API, the WebUI and the proxy, and run the reconciler",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.requireConfig(cmd); err != nil {
				return err
			}
			o.config = g.config
			return runServe(cmd.Context(), *o, streamsOf(cmd))
		},
	}
	cmd.Flags().StringVar(&o.proxyMode, "proxy-mode", "", "override the site config's proxy_mode (tunnel or direct); pools that set their own keep it")
	_ = cmd.RegisterFlagCompletionFunc("proxy-mode", cobra.FixedCompletions([]string{"tunnel", "direct"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// runServe serves until ctx is done. A bad site config or --proxy-mode is
// refused before anything starts.
func runServe(ctx context.Context, o serveOptions, s streams) error {
	cfg, err := siteconfig.Load(o.config)
	if err != nil {
		return err
	}
	if o.proxyMode != "" {
		if err := cfg.SetProxyMode(o.proxyMode); err != nil {
			return fmt.Errorf("--proxy-mode: %w", err)
		}
	}
	log := slog.New(slog.NewTextHandler(s.err, nil))
	if cfg.Determined != nil {
		log.Info("the site config is a Determined master.yaml; det-bridge check-config shows how each field maps", "config", o.config)
	}
	srv, st, err := openBridge(cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := srv.Start(ctx); err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s (listen in the site config): %w", cfg.Listen, err)
	}
	var ml net.Listener
	if cfg.MetricsListen != "" {
		if ml, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			l.Close()
			return fmt.Errorf("listen on %s (metrics_listen in the site config): %w", cfg.MetricsListen, err)
		}
		log.Info("det-bridge serving metrics", "metrics_listen", cfg.MetricsListen)
	}
	log.Info("det-bridge serving", "listen", cfg.Listen, "external_url", cfg.ExternalURL)
	return srv.Serve(ctx, l, ml)
}

// openBridge opens the site's database and makes the bridge on it, with
// one Slurm per cluster (the commands, with -M <name> for the site's other
// clusters, or a cluster's slurmrestd), each command counted in the
// bridge's metrics. The caller closes the store.
func openBridge(cfg *siteconfig.Config, log *slog.Logger) (*bridge.Server, *store.Store, error) {
	local, err := clusterSlurm(cfg, "")
	if err != nil {
		return nil, nil, err
	}
	others := map[string]bridge.Slurm{}
	for _, cl := range cfg.Clusters {
		if others[cl.Name], err = clusterSlurm(cfg, cl.Name); err != nil {
			return nil, nil, err
		}
	}
	st, err := store.Open(cfg.DBPath)
	if err != nil {
		return nil, nil, err
	}
	if len(cfg.Clusters) > 0 {
		nameLocalCluster(cfg, slurm.NewCLI(slurm.BaseEnv(cfg.SlurmEnv)), log)
	}
	srv := bridge.New(cfg, st, local, log.With("component", "bridge"))
	countCommands(srv, local)
	for name, sl := range others {
		countCommands(srv, sl)
		srv.SetClusterSlurm(name, sl)
	}
	return srv, st, nil
}

// nameLocalCluster asks Slurm for the local cluster's ClusterName, which a
// site of several clusters shows beside the others' names; without an
// answer it is shown as siteconfig.LocalClusterLabel.
func nameLocalCluster(cfg *siteconfig.Config, cli *slurm.CLI, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	name, err := cli.ClusterName(ctx)
	if err != nil {
		log.Warn("cannot read the local cluster's name from Slurm; it is shown as "+siteconfig.LocalClusterLabel, "err", err)
		return
	}
	for _, cl := range cfg.Clusters {
		if cl.Name == name {
			log.Warn("clusters: lists the login node's own cluster; its pools should leave cluster empty", "cluster", name)
		}
	}
	cfg.LocalClusterName = name
}
