// Command det-bridge is the login-node service that runs notebooks as
// Slurm jobs and proxies them.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/det-slurm/bridge/bridge"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "det-bridge:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 2 && args[0] == "check-config" {
		if _, err := siteconfig.Load(args[1]); err != nil {
			return err
		}
		fmt.Println(args[1] + ": OK")
		return nil
	}
	if len(args) != 2 || args[0] != "--config" {
		return fmt.Errorf("usage: det-bridge --config SITE.yaml | det-bridge check-config SITE.yaml")
	}
	cfg, err := siteconfig.Load(args[1])
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	st, err := store.Open(cfg.DBPath)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := bridge.New(cfg, st, slurm.NewCLI(slurm.BaseEnv(cfg.SlurmEnv)), log.With("component", "bridge"))
	if err := srv.Start(ctx); err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s (listen in the site config): %w", cfg.Listen, err)
	}
	log.Info("det-bridge serving", "listen", cfg.Listen, "external_url", cfg.ExternalURL)
	return srv.Serve(ctx, l)
}
