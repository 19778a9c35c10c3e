// Package suite runs the benchmark phases (proxy HTTP and websocket
// against the peers, memory, time to notebook, controller load, API
// scale) and writes the results table.
package suite

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/det-slurm/bridge/bench/internal/backend"
	"github.com/det-slurm/bridge/bench/internal/benchbridge"
)

// Main dispatches: "run" (the default) runs the suite; "backend",
// "bridge" and "rproxy" are the processes it starts.
func Main(args []string) error {
	sub := "run"
	if len(args) > 0 && (args[0] == "run" || args[0] == "backend" || args[0] == "bridge" || args[0] == "rproxy") {
		sub, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch sub {
	case "backend":
		return runBackend(ctx, args)
	case "bridge":
		return runBridge(ctx, args)
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Dir == "" || o.TokenFile == "" {
		return fmt.Errorf("bridge: -dir and -token-file are required")
	}
	return benchbridge.Run(ctx, o)
}
