// Command benchrun runs the benchmark suite (bench/run.sh calls it with
// "run") and, as subcommands, the processes the suite measures: the
// static backend, a real bridge on a temporary store, the jobs' end of
// its tunnels and a bare ReverseProxy.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/det-slurm/bridge/bench/internal/serve"
	"github.com/det-slurm/bridge/bench/internal/suite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	args := os.Args[1:]
	cmd := "run"
	if len(args) > 0 && (args[0] == "run" || slices.Contains(serve.Commands, args[0])) {
		cmd, args = args[0], args[1:]
	}
	var err error
	if cmd == "run" {
		err = suite.Run(ctx, args)
	} else {
		err = serve.Main(ctx, cmd, args)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}
