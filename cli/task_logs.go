package cli

import (
	"context"
	"encoding/json"
	"io"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// logsOptions are the arguments of `det notebook|shell|task logs`.
type logsOptions struct {
	id   string
	logs client.LogOptions
	json bool // each line as JSON
}

// newLogsCmd prints the logs of a task of kind k.
func newLogsCmd(g *globals, k client.Kind) *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:               "logs ID",
		Short:             "Print a " + k.Name + "'s logs: the bridge's events and the job's output",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeIDs(k),
		RunE: g.runE(func(ctx context.Context, c bridgeClient, args []string) error {
			o.id = args[0]
			return runLogs(ctx, *o, c, g.con)
		}),
	}
	cmd.Flags().BoolVarP(&o.logs.Follow, "follow", "f", false, "keep printing until the "+k.Name+" ends")
	cmd.Flags().IntVar(&o.logs.Head, "head", 0, "print only the first N lines")
	cmd.Flags().IntVar(&o.logs.Tail, "tail", 0, "print only the last N lines (with -f: start with them)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print each line as JSON")
	cmd.MarkFlagsMutuallyExclusive("head", "tail")
	return cmd
}

// runLogs prints a task's log lines as Determined's CLI prints them
// (each message with its own "\n"), or one JSON object a line.
func runLogs(ctx context.Context, o logsOptions, c bridgeClient, con *console) error {
	enc := json.NewEncoder(con.Out)
	return c.Logs(ctx, o.id, o.logs, func(l api.TaskLog) error {
		if o.json {
			return enc.Encode(l)
		}
		_, err := io.WriteString(con.Out, l.Message)
		return err
	})
}
