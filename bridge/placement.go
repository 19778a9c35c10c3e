package bridge

import (
	"fmt"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/slurm"
)

// placement is where a live task runs: its node and the ids of the slots
// it holds there.
type placement struct {
	task  *store.Task
	slots []int
}

// onNode reports whether a task's job holds its node: it has started and
// not yet ended.
func onNode(t *store.Task) bool {
	switch t.State {
	case api.StateStarting, api.StateRunning, api.StateTerminating:
		return t.Node != ""
	}
	return false
}

// placeTasks gives each live task that holds a node the slots it holds
// there, by node name. Slurm's node list says how many GPUs of a node are
// in use, not which job holds which, so slot ids are positions: tasks in
// registration order (as the store lists them) take the node's lowest
// free ids. The number of slots a task holds is right; which of the node's
// GPUs they are is not known. nodes may be nil (Slurm did not answer):
// the tasks are placed without slots.
func placeTasks(nodes []slurm.Node, live []*store.Task) map[string][]placement {
	gpus := make(map[string]int, len(nodes))
	for _, n := range nodes {
		gpus[n.Name] = n.GPUs
	}
	next := map[string]int{}
	out := map[string][]placement{}
	for _, t := range live {
		if !onNode(t) {
			continue
		}
		k := max(0, min(t.Slots, gpus[t.Node]-next[t.Node]))
		p := placement{task: t, slots: make([]int, k)}
		for i := range p.slots {
			p.slots[i] = next[t.Node] + i
		}
		next[t.Node] += k
		out[t.Node] = append(out[t.Node], p)
	}
	return out
}

// nodeDevices are a node's slots as Determined shows an agent's: one per
// GPU. A node without GPUs has one TYPE_CPU slot for all its CPUs, as a
// Determined agent without GPUs reports its CPUs as a single device.
func nodeDevices(n slurm.Node) []api.Device {
	if n.GPUs == 0 {
		return []api.Device{{ID: 0, Brand: fmt.Sprintf("%d CPUs", n.CPUs), Type: api.DeviceTypeCPU}}
	}
	brand := n.GPUType
	if brand == "" {
		brand = "gpu" // Slurm's GRES name, when the node gives no GPU type
	}
	out := make([]api.Device, n.GPUs)
	for i := range out {
		out[i] = api.Device{ID: i, Brand: brand, Type: api.DeviceTypeCUDA}
	}
	return out
}

// heldDevices are the devices of a node that a placement holds.
func heldDevices(devs []api.Device, p placement) []api.Device {
	out := make([]api.Device, 0, len(p.slots))
	for _, i := range p.slots {
		if i < len(devs) {
			out = append(out, devs[i])
		}
	}
	return out
}

// containerState is the state of the container (the Slurm job) of a task
// that holds a node.
func containerState(taskState string) string {
	if taskState == api.StateStarting {
		return api.ContainerStarting
	}
	return api.ContainerRunning
}

// canSee reports whether user u may see task t: its own, or any as an
// admin.
func canSee(u *store.User, t *store.Task) bool { return u.Admin || t.Owner == u.Username }

// containerOf is a placement's container as user u may see it: the Slurm
// job and the devices it holds, or, for another user's task, only that
// the slots are held.
func containerOf(u *store.User, p placement, devs []api.Device) api.Container {
	if !canSee(u, p.task) {
		return api.Container{State: api.ContainerUnspecified, Devices: []api.Device{}, PermissionDenied: true}
	}
	return api.Container{ID: p.task.JobID, State: containerState(p.task.State), Devices: heldDevices(devs, p)}
}
