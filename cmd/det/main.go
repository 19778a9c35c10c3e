// Command det is the command-line client of the bridge.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/det-slurm/bridge/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Execute(ctx, os.Args[1:], cli.IO{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	stop()
	os.Exit(code)
}
