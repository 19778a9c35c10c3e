package bridge

import (
	"net/http"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/slurm"
)

// handleGetTask answers GET /api/v1/tasks/{id} (Determined's GetTask):
// the task and its one allocation. Determined's CLI polls it after a
// launch until the allocation is ready or the task has an end time.
func (s *Server) handleGetTask(w http.ResponseWriter, r *http.Request) {
	if t, ok := s.lookup(w, r); ok {
		writeJSON(w, http.StatusOK, api.GetTaskResponse{Task: taskOf(t)})
	}
}

// taskOf is a stored task as Determined's v1Task.
func taskOf(t *store.Task) api.Task {
	start := t.RegisteredTime.UTC()
	a := api.Allocation{
		TaskID: t.ID, AllocationID: api.AllocationID(t.ID), State: t.State, IsReady: t.State == api.StateRunning,
		Slots: t.Slots, StartTime: start, ResourcePool: t.Pool,
	}
	out := api.Task{TaskID: t.ID, TaskType: api.TaskType(t.Type), StartTime: start}
	if api.Terminal(t.State) {
		end := t.EndTime
		if end.IsZero() { // the store sets it with the state; never leave an ended task without one
			end = t.RegisteredTime
		}
		end = end.UTC()
		out.EndTime, a.EndTime = &end, &end
		a.ExitReason, a.StatusCode = t.Reason, t.ExitCode
	}
	out.Allocations = []api.Allocation{a}
	return out
}

// handleTasks answers GET /api/v1/tasks (Determined's GetTasks): the live
// tasks the user may see, by allocation id, with the node each runs on.
func (s *Server) handleTasks(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	live, err := s.store.LiveTasks(r.Context())
	if err != nil {
		s.internal(w, "list tasks", err)
		return
	}
	// Without Slurm's node list the tasks are still listed, with their
	// nodes but no devices.
	nodes, _ := s.allNodes(r.Context())
	sums := summaries(u, nodes, live)
	for _, t := range live {
		if sum, ok := sums[api.AllocationID(t.ID)]; ok && s.multiCluster() {
			sum.Cluster = s.clusterOf(t)
			sums[sum.AllocationID] = sum
		}
	}
	writeJSON(w, http.StatusOK, api.GetTasksResponse{AllocationIDToSummary: sums})
}

// summaries are the live tasks u may see as Determined's
// v1AllocationSummary, by allocation id.
func summaries(u *store.User, nodes []slurm.Node, live []*store.Task) map[string]api.AllocationSummary {
	devs := make(map[string][]api.Device, len(nodes))
	for _, n := range nodes {
		devs[n.Name] = nodeDevices(n)
	}
	held := map[string]placement{}
	for _, ps := range placeTasks(nodes, live) {
		for _, p := range ps {
			held[p.task.ID] = p
		}
	}
	out := make(map[string]api.AllocationSummary, len(live))
	for _, t := range live {
		if !canSee(u, t) {
			continue
		}
		sum := api.AllocationSummary{
			TaskID: t.ID, AllocationID: api.AllocationID(t.ID), Name: t.Description, RegisteredTime: t.RegisteredTime.UTC(),
			ResourcePool: t.Pool, SlotsNeeded: t.Slots, Resources: []api.ResourcesSummary{},
			SchedulerType: api.SchedulerTypeSlurm, Username: t.Owner,
		}
		if p, ok := held[t.ID]; ok {
			sum.Resources = append(sum.Resources, api.ResourcesSummary{
				ResourcesID: t.JobID, AllocationID: sum.AllocationID, ContainerID: t.JobID,
				AgentDevices: map[string]api.ResourcesDevices{t.Node: {Devices: heldDevices(devs[t.Node], p)}},
			})
		}
		out[sum.AllocationID] = sum
	}
	return out
}
