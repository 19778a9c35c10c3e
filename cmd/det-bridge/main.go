// Command det-bridge is the login-node service that runs notebooks as
// Slurm jobs and proxies them.
//
//	det-bridge --config SITE.yaml              serve
//	det-bridge check-config [--offline] SITE.yaml
//	                                           validate a site config (against Slurm unless --offline);
//	                                           for a Determined master.yaml, show how each field maps
//	det-bridge orphans --config SITE.yaml [--cancel]
//	                                           list (or cancel) jobs with a bridge job name that no task owns
//	det-bridge set-password --config SITE.yaml USER
//	                                           set a user's password (read from standard input)
//	det-bridge audit --config SITE.yaml [--since 1h] [--actor NAME] [--action ACTION] [--json]
//	                                           print the audit trail from the database
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/det-slurm/bridge/bridge"
	"github.com/det-slurm/bridge/bridge/api"
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
	if len(args) > 0 && args[0] == "check-config" {
		return checkConfig(args[1:])
	}
	if len(args) > 0 && args[0] == "audit" {
		return audit(args[1:], os.Stdout)
	}
	sub := "serve"
	if len(args) > 0 && (args[0] == "orphans" || args[0] == "set-password") {
		sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("det-bridge "+sub, flag.ContinueOnError)
	cfgPath := fs.String("config", "", "site config file (YAML)")
	cancel := fs.Bool("cancel", false, "orphans: cancel the jobs listed")
	proxyMode := fs.String("proxy-mode", "", "override the site config's proxy_mode (tunnel or direct); pools that set their own keep it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cfgPath == "" || (fs.NArg() > 0) != (sub == "set-password") {
		return fmt.Errorf("usage: det-bridge --config SITE.yaml | det-bridge check-config SITE.yaml | det-bridge orphans --config SITE.yaml [--cancel] | det-bridge set-password --config SITE.yaml USER | det-bridge audit --config SITE.yaml [--since 1h]")
	}
	cfg, err := siteconfig.Load(*cfgPath)
	if err != nil {
		return err
	}
	if *proxyMode != "" {
		if err := cfg.SetProxyMode(*proxyMode); err != nil {
			return fmt.Errorf("--proxy-mode: %w", err)
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if cfg.Determined != nil {
		log.Info("the site config is a Determined master.yaml; det-bridge check-config shows how each field maps", "config", *cfgPath)
	}
	st, err := store.Open(cfg.DBPath)
	if err != nil {
		return err
	}
	defer st.Close()
	if sub == "set-password" {
		return setPassword(st, fs.Arg(0))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cli := slurm.NewCLI(slurm.BaseEnv(cfg.SlurmEnv))
	srv := bridge.New(cfg, st, cli, log.With("component", "bridge"))
	cli.Runner = srv.Metrics().Runner(cli.Runner)
	if sub == "orphans" {
		return orphans(ctx, srv, *cancel)
	}
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

func orphans(ctx context.Context, srv *bridge.Server, cancel bool) error {
	jobs, err := srv.Orphans(ctx)
	if err != nil {
		return err
	}
	if len(jobs) == 0 {
		fmt.Println("No orphan jobs.")
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Job\tName\tUser\tState")
	for _, j := range jobs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", j.ID, j.Name, j.User, j.State)
	}
	tw.Flush()
	if !cancel {
		fmt.Println("Run again with --cancel to cancel them.")
		return nil
	}
	for _, j := range jobs {
		if err := srv.CancelJob(ctx, j.ID); err != nil {
			return err
		}
		fmt.Printf("Cancelled job %s.\n", j.ID)
	}
	return nil
}

func setPassword(st *store.Store, name string) error {
	ctx := context.Background()
	if err := st.EnsureDefaultUsers(ctx); err != nil {
		return err
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("read the new password from standard input: %w", err)
	}
	pass := strings.TrimRight(line, "\r\n")
	if pass == "" {
		return fmt.Errorf("the password is empty")
	}
	if err := st.SetPassword(ctx, name, store.Plain(pass)); err != nil {
		return fmt.Errorf("set the password of %s: %w", name, err)
	}
	if err := st.AddAudit(ctx, store.Audit{Action: api.AuditUserUpdate, Target: name, Detail: "password, set with det-bridge set-password"}); err != nil {
		fmt.Fprintf(os.Stderr, "det-bridge: warning: %v\n", err)
	}
	fmt.Printf("Password of %s set.\n", name)
	return nil
}

// checkConfig validates a site config: its schema, its paths and (unless
// offline) its pools against Slurm. Offline, missing paths are warnings.
func checkConfig(args []string) error {
	fs := flag.NewFlagSet("det-bridge check-config", flag.ContinueOnError)
	offline := fs.Bool("offline", false, "do not ask Slurm; report missing paths as warnings")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: det-bridge check-config [--offline] SITE.yaml")
	}
	file := fs.Arg(0)
	cfg, err := siteconfig.Load(file)
	if err != nil {
		return err
	}
	if cfg.Determined != nil {
		fmt.Println(file + ": a Determined master.yaml; its fields map to these bridge settings:")
		for _, m := range cfg.Determined {
			fmt.Println("  " + m.String())
		}
	}
	missing := cfg.MissingPaths()
	for _, m := range missing {
		fmt.Fprintf(os.Stderr, "%s: warning: %s\n", file, m)
	}
	if !*offline {
		if len(missing) > 0 {
			return fmt.Errorf("%s: %d configured paths do not exist", file, len(missing))
		}
		srv := bridge.New(cfg, nil, slurm.NewCLI(slurm.BaseEnv(cfg.SlurmEnv)), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err := srv.CheckSlurm(context.Background()); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
	fmt.Println(file + ": OK")
	return nil
}
