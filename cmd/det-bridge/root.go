package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// streams are the standard streams a subcommand reads and writes; main
// passes the process's, tests buffers.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// streamsOf are the streams cmd was given.
func streamsOf(cmd *cobra.Command) streams {
	return streams{in: cmd.InOrStdin(), out: cmd.OutOrStdout(), err: cmd.ErrOrStderr()}
}

// globalOptions are the flags every subcommand shares.
type globalOptions struct {
	config string // the site config file (YAML)
}

// requireConfig refuses a command run without --config.
func (g *globalOptions) requireConfig(cmd *cobra.Command) error {
	if g.config == "" {
		return usageError(cmd, "--config SITE.yaml is required")
	}
	return nil
}

// newRoot returns the det-bridge command: on its own, it serves, as
// `det-bridge serve` does.
func newRoot(s streams) *cobra.Command {
	g := &globalOptions{}
	root := newServeCmd(g)
	root.Use = "det-bridge --config SITE.yaml [--proxy-mode MODE]"
	root.Short = "The bridge: runs Jupyter notebooks and shells as Slurm jobs and proxies them"
	root.Long = "det-bridge runs the bridge's service (the same as `det-bridge serve`) and its maintenance commands."
	root.SilenceUsage, root.SilenceErrors = true, true
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.PersistentFlags().StringVar(&g.config, "config", "", "site config file (YAML)")
	_ = root.MarkPersistentFlagFilename("config", "yaml", "yml")
	root.AddCommand(newServeCmd(g), newCheckConfigCmd(g), newOrphansCmd(g), newSetPasswordCmd(g), newAuditCmd(g))
	return root
}

// usageError is a usage mistake, named, with the command's usage line;
// main puts "det-bridge: " before it.
func usageError(cmd *cobra.Command, format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	if cmd.HasParent() {
		msg = cmd.Name() + ": " + msg
	}
	return fmt.Errorf("%s (usage: %s)", msg, strings.TrimSuffix(cmd.UseLine(), " [flags]"))
}

// namedArgs accepts exactly the positional arguments named (such as
// "USER"), naming the one missing or the first one too many.
func namedArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return usageError(cmd, "the %s argument is missing", strings.Join(names[len(args):], " "))
		case len(args) > len(names):
			return usageError(cmd, "unexpected argument %q", args[len(names)])
		}
		return nil
	}
}
