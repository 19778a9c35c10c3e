// Command det-launcher runs inside a Slurm job: it starts the notebook
// server of one task in its container and reports it to the bridge.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/det-slurm/bridge/launcher"
)

func main() {
	if len(os.Args) != 4 || os.Args[1] != "run" || os.Args[2] != "--spec" {
		fmt.Fprintln(os.Stderr, "usage: det-launcher run --spec <jobdir>/task.json")
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("component", "det-launcher")
	spec, err := launcher.ReadSpec(os.Args[3])
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	os.Exit(launcher.Run(context.Background(), spec, launcher.Options{Logger: log}))
}
