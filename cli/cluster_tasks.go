package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// listTasksOptions are the flags of `det task list`.
type listTasksOptions struct {
	json bool
}

// newTaskCmd is `det task`: the live tasks of every kind, and their logs.
func newTaskCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "task", Short: "List live tasks (notebooks and shells) and print their logs"}
	o := &listTasksOptions{}
	list := newListVerb(g, "List the live tasks you may see, with the node each runs on", &o.json, "print JSON", func(ctx context.Context, c bridgeClient) error {
		return runListTasks(ctx, *o, c, g.con)
	})
	cmd.AddCommand(list, newLogsCmd(g, client.Kind{Name: "task"}))
	return cmd
}

// runListTasks prints the live tasks, oldest first, with their nodes
// ("unassigned" while queued).
func runListTasks(ctx context.Context, o listTasksOptions, c bridgeClient, con *console) error {
	tasks, err := c.Tasks(ctx)
	if err != nil {
		return err
	}
	if o.json {
		return con.printJSON(tasks)
	}
	sums := make([]api.AllocationSummary, 0, len(tasks))
	for _, s := range tasks {
		sums = append(sums, s)
	}
	sort.Slice(sums, func(i, j int) bool { return sums[i].RegisteredTime.Before(sums[j].RegisteredTime) })
	tw := tabwriter.NewWriter(con.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Task ID\tAllocation ID\tName\tSlots Needed\tRegistered Time\tAgent\tResource Pool\tUser")
	for _, s := range sums {
		var agents []string
		for _, r := range s.Resources {
			for a := range r.AgentDevices {
				agents = append(agents, a)
			}
		}
		agent := strings.Join(agents, ", ")
		if len(s.Resources) == 0 {
			agent = "unassigned"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", s.TaskID, s.AllocationID, s.Name, s.SlotsNeeded,
			s.RegisteredTime.Local().Format("2006-01-02 15:04:05"), agent, s.ResourcePool, s.Username)
	}
	return tw.Flush()
}
