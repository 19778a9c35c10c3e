// Package suite runs the benchmark phases (proxy HTTP and websocket
// against the peers, memory, time to notebook, controller load, API
// scale) and writes the results table.
package suite

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/det-slurm/bridge/bench/internal/backend"
	"github.com/det-slurm/bridge/bench/internal/benchbridge"
	"github.com/det-slurm/bridge/bench/internal/tunneljob"
)

// Main dispatches: "run" (the default) runs the suite; "backend",
// "bridge", "tunnel-job" and "rproxy" are the processes it starts.
func Main(args []string) error {
	sub := "run"
	if len(args) > 0 && slices.Contains([]string{"run", "backend", "bridge", "tunnel-job", "rproxy"}, args[0]) {
		sub, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch sub {
	case "backend":
		return runBackend(ctx, args)
	case "bridge":
		return runBridge(ctx, args)
	case "tunnel-job":
		return runTunnelJob(ctx, args)
	case "rproxy":
		fs := flag.NewFlagSet("rproxy", flag.ContinueOnError)
		addr := fs.String("listen", "127.0.0.1:0", "address to serve on")
		be := fs.String("backend", "", "backend URL")
		buf := fs.Int("buf", 32<<10, "copy buffer size")
		if err := fs.Parse(args); err != nil {
			return err
		}
		return runRProxy(ctx, *addr, *be, *buf)
	}
	return runSuite(ctx, args)
}

func runBackend(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("backend", flag.ContinueOnError)
	addr := fs.String("listen", "127.0.0.1:0", "address to serve on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv := &http.Server{Addr: *addr, Handler: backend.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func runBridge(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bridge", flag.ContinueOnError)
	var o benchbridge.Options
	fs.StringVar(&o.Dir, "dir", "", "fresh folder for the store")
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:0", "address to serve on")
	fs.StringVar(&o.Pprof, "pprof", "", "address of the pprof server")
	fs.StringVar(&o.Backend, "backend", "", "URL the benchmark route proxies to")
	fs.IntVar(&o.SeedTasks, "seed", 0, "ended notebooks to store first")
	fs.StringVar(&o.TokenFile, "token-file", "", "where to write the user token")
	fs.IntVar(&o.Tunnels, "tunnels", 0, "running notebooks in tunnel mode to store first")
	fs.StringVar(&o.TunnelSecret, "tunnel-secret", "", "base of the tunnel notebooks' secrets")
	fs.StringVar(&o.LogLevel, "log", "", "log at this level (debug, info, warn, error) to stderr; default none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Dir == "" || o.TokenFile == "" {
		return fmt.Errorf("bridge: -dir and -token-file are required")
	}
	return benchbridge.Run(ctx, o)
}

// runTunnelJob is the "tunnel-job" subcommand: the jobs' end of a
// benchmark bridge's tunnel notebooks.
func runTunnelJob(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tunnel-job", flag.ContinueOnError)
	var o tunneljob.Options
	fs.StringVar(&o.Bridge, "bridge", "", "the bridge's URL (a job's callback_url)")
	fs.StringVar(&o.Secret, "secret", "", "base of the tasks' secrets (the bridge's -tunnel-secret)")
	fs.StringVar(&o.Backend, "backend", "", "host:port every connection is joined to")
	fs.IntVar(&o.First, "first", 0, "number of the first tunnel task")
	fs.IntVar(&o.N, "n", 1, "how many tunnel tasks, from -first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Bridge == "" || o.Secret == "" || o.Backend == "" {
		return fmt.Errorf("tunnel-job: -bridge, -secret and -backend are required")
	}
	o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return tunneljob.Run(ctx, o)
}
