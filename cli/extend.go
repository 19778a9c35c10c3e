package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/client"
)

// extendOptions are the arguments of `det notebook|shell extend`.
type extendOptions struct {
	kind client.Kind
	id   string
	by   string // a duration ("1h", "30m") or minutes
}

// newExtendCmd adds time to a running task of kind k.
func newExtendCmd(g *globals, k client.Kind) *cobra.Command {
	o := &extendOptions{kind: k}
	cmd := &cobra.Command{
		Use:               "extend ID --by DURATION",
		Short:             "Add time to a running " + k.Name + "'s time limit, within its pool's policy",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeIDs(k),
		RunE: g.runE(func(ctx context.Context, c bridgeClient, args []string) error {
			o.id = args[0]
			return runExtend(ctx, *o, c, g.con)
		}),
	}
	cmd.Flags().StringVar(&o.by, "by", "", `time to add: a duration ("1h", "30m") or minutes`)
	_ = cmd.MarkFlagRequired("by")
	return cmd
}

// runExtend extends the task and prints its new time limit, the time
// left and how many extensions it has had.
func runExtend(ctx context.Context, o extendOptions, c bridgeClient, con *console) error {
	nb, x, err := c.Extend(ctx, o.kind, o.id, o.by)
	if err != nil {
		return fmt.Errorf("extend %s: %w", o.id, err)
	}
	left := ""
	if nb.TimeRemainingSeconds != nil {
		left = ", " + (time.Duration(*nb.TimeRemainingSeconds) * time.Second).String() + " left"
	}
	count := fmt.Sprintf("extension %d", x.Extensions)
	if x.MaxExtensions > 0 {
		count += fmt.Sprintf(" of %d", x.MaxExtensions)
	}
	fmt.Fprintf(con.Out, "Extended %s %s (%s) by %s: its time limit is now %s%s (%s)\n", o.kind.Name, nb.ID, nb.Description,
		minutes(x.AddedSeconds), minutes(x.TimeLimitSeconds), left, count)
	return nil
}

// minutes writes seconds as whole minutes the way people say them: "45m",
// "1h", "2h30m".
func minutes(sec int64) string {
	m := sec / 60
	switch {
	case m >= 60 && m%60 != 0:
		return fmt.Sprintf("%dh%dm", m/60, m%60)
	case m >= 60:
		return fmt.Sprintf("%dh", m/60)
	}
	return fmt.Sprintf("%dm", m)
}
