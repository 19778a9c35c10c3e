package cli

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// newTaskCmd is `det task`: the live tasks of every kind, and their logs.
func newTaskCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "task", Short: "List live tasks (notebooks and shells) and print their logs"}
	var asJSON bool
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the live tasks you may see, with the node each runs on",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			tasks, err := c.Tasks(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return g.printJSON(tasks)
			}
			sums := make([]api.AllocationSummary, 0, len(tasks))
			for _, s := range tasks {
				sums = append(sums, s)
			}
			sort.Slice(sums, func(i, j int) bool { return sums[i].RegisteredTime.Before(sums[j].RegisteredTime) })
			tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
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
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(list, newLogsCmd(g, client.Kind{Name: "task"}))
	return cmd
}

// newAgentCmd is `det agent list`: the Slurm nodes of the pools.
func newAgentCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "agent", Aliases: []string{"a"}, Short: "List the agents (the Slurm nodes of the resource pools)"}
	var asJSON bool
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the agents with their slots, pools and Slurm state",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			agents, err := c.Agents(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return g.printJSON(agents)
			}
			tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "Agent ID\tSlots\tContainers\tResource Pool\tEnabled\tDraining\tAddresses\tSlurm State")
			for _, a := range agents {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%t\t%t\t%s\t%s\n", a.ID, len(a.Slots), len(a.Containers), strings.Join(a.ResourcePools, ", "),
					a.Enabled, a.Draining, strings.Join(a.Addresses, ", "), a.SlurmState)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(list)
	return cmd
}

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

// newSlotCmd is `det slot list`: every slot of every agent and the task
// holding it.
func newSlotCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "slot", Aliases: []string{"s"}, Short: "List the slots (GPUs, or a CPU node's CPUs) and who holds them"}
	var asJSON bool
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List every slot of every agent",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			tasks, err := c.Tasks(cmd.Context())
			if err != nil {
				return err
			}
			agents, err := c.Agents(cmd.Context())
			if err != nil {
				return err
			}
			rows := slotRows(agents, tasks)
			if asJSON {
				return g.printJSON(rows)
			}
			tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "Agent ID\tResource Pool\tSlot ID\tEnabled\tDraining\tAllocation ID\tTask Name\tType\tDevice")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%t\t%s\t%s\t%s\t%s\n", r.AgentID, r.ResourcePools, r.SlotID, r.Enabled, r.Draining,
					r.AllocationID, r.TaskName, r.Type, r.Device)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(list)
	return cmd
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
