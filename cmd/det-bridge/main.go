// Command det-bridge is the login-node service that runs notebooks as
// Slurm jobs and proxies them.
//
//	det-bridge --config SITE.yaml [--proxy-mode MODE]
//	                                           serve (the same as det-bridge serve)
//	det-bridge check-config [--offline] SITE.yaml
//	                                           validate a site config (against Slurm unless --offline);
//	                                           for a Determined master.yaml, show how each field maps
//	det-bridge orphans --config SITE.yaml [--cancel]
//	                                           list (or cancel) jobs with a bridge job name that no task owns
//	det-bridge set-password --config SITE.yaml USER
//	                                           set a user's password (read from standard input)
//	det-bridge audit --config SITE.yaml [--since 1h] [--actor NAME] [--action ACTION] [--json]
//	                                           print the audit trail from the database
//	det-bridge completion bash|zsh|fish        shell completion
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot(streams{in: os.Stdin, out: os.Stdout, err: os.Stderr}).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "det-bridge:", err)
		os.Exit(1)
	}
}
