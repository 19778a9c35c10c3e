package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/api"
)

// slotRow is one line of `det slot list`.
type slotRow struct {
	AgentID       string `json:"agent_id"`
	ResourcePools string `json:"resource_pools"`
	SlotID        string `json:"slot_id"`
	Enabled       bool   `json:"enabled"`
	Draining      bool   `json:"draining"`
	AllocationID  string `json:"allocation_id"`
	TaskName      string `json:"task_name"`
	Type          string `json:"type"`
	Device        string `json:"device"`
}

// listSlotsOptions are the flags of `det slot list`.
type listSlotsOptions struct {
	json bool
}

// newSlotCmd is `det slot list`: every slot of every agent and the task
// holding it.
func newSlotCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "slot", Aliases: []string{"s"}, Short: "List the slots (GPUs, or a CPU node's CPUs) and who holds them"}
	o := &listSlotsOptions{}
	list := newListVerb(g, "List every slot of every agent", &o.json, "print JSON", func(ctx context.Context, c bridgeClient) error {
		return runListSlots(ctx, *o, c, g.con)
	})
	cmd.AddCommand(list)
	return cmd
}

// runListSlots prints every slot and the task holding it.
func runListSlots(ctx context.Context, o listSlotsOptions, c bridgeClient, con *console) error {
	tasks, err := c.Tasks(ctx)
	if err != nil {
		return err
	}
	agents, err := c.Agents(ctx)
	if err != nil {
		return err
	}
	rows := slotRows(agents, tasks)
	if o.json {
		return con.printJSON(rows)
	}
	tw := tabwriter.NewWriter(con.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Agent ID\tResource Pool\tSlot ID\tEnabled\tDraining\tAllocation ID\tTask Name\tType\tDevice")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%t\t%s\t%s\t%s\t%s\n", r.AgentID, r.ResourcePools, r.SlotID, r.Enabled, r.Draining,
			r.AllocationID, r.TaskName, r.Type, r.Device)
	}
	return tw.Flush()
}

// slotRows lists the agents' slots in order, naming the task that holds
// each: FREE, the task, or OCCUPIED by a task the user may not see.
func slotRows(agents []api.Agent, tasks map[string]api.AllocationSummary) []slotRow {
	byContainer := map[string]api.AllocationSummary{}
	for _, t := range tasks {
		for _, r := range t.Resources {
			byContainer[r.ContainerID] = t
		}
	}
	var rows []slotRow
	for _, a := range agents {
		slots := make([]api.Slot, 0, len(a.Slots))
		for _, s := range a.Slots {
			slots = append(slots, s)
		}
		sort.Slice(slots, func(i, j int) bool { return slots[i].Device.ID < slots[j].Device.ID })
		for _, s := range slots {
			r := slotRow{AgentID: a.ID, ResourcePools: strings.Join(a.ResourcePools, ", "), SlotID: s.ID, Enabled: s.Enabled,
				Draining: s.Draining, AllocationID: "FREE", TaskName: "FREE",
				Type: strings.ToLower(strings.TrimPrefix(s.Device.Type, "TYPE_")), Device: s.Device.Brand}
			id := containerID(s)
			switch t, ok := byContainer[id]; {
			case s.Container == nil:
			case ok && id != "":
				r.AllocationID, r.TaskName = t.AllocationID, t.Name
			default:
				r.AllocationID, r.TaskName = "OCCUPIED", "another user's task"
			}
			rows = append(rows, r)
		}
	}
	return rows
}

func containerID(s api.Slot) string {
	if s.Container == nil || s.Container.PermissionDenied {
		return ""
	}
	return s.Container.ID
}
