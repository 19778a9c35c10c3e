package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

// orphansOptions are the flags of `det-bridge orphans`.
type orphansOptions struct {
	config string
	cancel bool // cancel the jobs listed
}

func newOrphansCmd(g *globalOptions) *cobra.Command {
	o := &orphansOptions{}
	cmd := &cobra.Command{
		Use:   "orphans --config SITE.yaml [--cancel]",
		Short: "List (or cancel) the Slurm jobs with a bridge job name that no task owns",
		Args:  namedArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.requireConfig(cmd); err != nil {
				return err
			}
			o.config = g.config
			return runOrphans(cmd.Context(), *o, streamsOf(cmd))
		},
	}
	cmd.Flags().BoolVar(&o.cancel, "cancel", false, "cancel the jobs listed")
	return cmd
}

// orphanJobs finds and cancels orphan jobs: the bridge, or a fake in
// tests.
type orphanJobs interface {
	Orphans(ctx context.Context) ([]slurm.Job, error)
	CancelJob(ctx context.Context, cluster, jobID string) error
}

// runOrphans lists the site's orphan jobs and, with cancel, cancels them.
func runOrphans(ctx context.Context, o orphansOptions, s streams) error {
	cfg, err := siteconfig.Load(o.config)
	if err != nil {
		return err
	}
	srv, st, err := openBridge(cfg, slog.New(slog.NewTextHandler(s.err, nil)))
	if err != nil {
		return err
	}
	defer st.Close()
	return listOrphans(ctx, srv, o.cancel, s.out)
}

// listOrphans prints the orphan jobs jobs finds as a table and, with
// cancel, cancels each.
func listOrphans(ctx context.Context, jobs orphanJobs, cancel bool, out io.Writer) error {
	list, err := jobs.Orphans(ctx)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(out, "No orphan jobs.")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Job\tName\tUser\tState")
	for _, j := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", jobLabel(j), j.Name, j.User, j.State)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !cancel {
		fmt.Fprintln(out, "Run again with --cancel to cancel them.")
		return nil
	}
	for _, j := range list {
		if err := jobs.CancelJob(ctx, j.Cluster, j.ID); err != nil {
			return fmt.Errorf("cancel job %s: %w", jobLabel(j), err)
		}
		fmt.Fprintf(out, "Cancelled job %s.\n", jobLabel(j))
	}
	return nil
}

// jobLabel names a job: its id, and its cluster unless it is the local
// one.
func jobLabel(j slurm.Job) string {
	if j.Cluster == "" {
		return j.ID
	}
	return j.ID + " on " + j.Cluster
}
