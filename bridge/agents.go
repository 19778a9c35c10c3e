package bridge

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/slurm"
)

// agentParts selects what an agent's answer holds.
type agentParts struct{ slots, containers bool }

// agents returns the Slurm nodes of the bridge's pools as Determined's
// agents, sorted by name, from the one cached node list the bridge keeps.
// Every logged-in user sees them; slots held by tasks u may not see show
// only that they are held.
func (s *Server) agents(ctx context.Context, u *store.User, parts agentParts) ([]api.Agent, error) {
	nodes, live, err := s.nodesAndLiveTasks(ctx)
	if err != nil {
		return nil, err
	}
	places := placeTasks(nodes, live)
	out := make([]api.Agent, 0, len(nodes))
	for _, n := range nodes {
		pools := s.poolsOfNode(n)
		if len(pools) == 0 {
			continue // a partition the bridge does not use
		}
		out = append(out, agentOf(n, pools, places[n.Name], u, parts))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// poolsOfNode names the pools whose partitions hold node n (on its
// cluster), in the site config's order.
func (s *Server) poolsOfNode(n slurm.Node) []string {
	var pools []string
	for _, p := range s.cfg.ResourcePools {
		if p.Cluster == n.Cluster && slices.Contains(n.Partitions, p.Partition) {
			pools = append(pools, p.Name)
		}
	}
	return pools
}

// agentOf is node n as Determined's v1Agent. Slurm's state decides
// enabled (the node takes jobs) and draining (drained or draining).
func agentOf(n slurm.Node, pools []string, places []placement, u *store.User, parts agentParts) api.Agent {
	enabled := slurm.NodeUp(n.State)
	draining := strings.Contains(strings.ToLower(n.State), "drain")
	a := api.Agent{
		ID: n.Name, Enabled: enabled, Draining: draining, ResourcePools: pools, Addresses: []string{},
		SlotStats:  api.SlotStats{TypeStats: map[string]api.DeviceStats{}, BrandStats: map[string]api.DeviceStats{}},
		SlurmState: n.State,
	}
	if n.Addr != "" {
		a.Addresses = []string{n.Addr}
	}
	devs := nodeDevices(n)
	held := make([]*api.Container, len(devs))
	containers := map[string]api.Container{}
	for _, p := range places {
		c := containerOf(u, p, devs)
		for _, i := range p.slots {
			if i < len(held) {
				held[i] = &c
			}
		}
		if !c.PermissionDenied {
			containers[c.ID] = c
		}
	}
	slots := make(map[string]api.Slot, len(devs))
	for i, d := range devs {
		slot := api.Slot{ID: strconv.Itoa(d.ID), Device: d, Enabled: enabled, Draining: draining, Container: held[i]}
		countSlot(a.SlotStats.TypeStats, d.Type, slot)
		countSlot(a.SlotStats.BrandStats, d.Brand, slot)
		if !parts.containers {
			slot.Container = nil
		}
		slots[slot.ID] = slot
	}
	if parts.slots {
		a.Slots = slots
	}
	if parts.containers {
		a.Containers = containers
	}
	return a
}

// countSlot adds a slot to the stats of its type or brand.
func countSlot(stats map[string]api.DeviceStats, key string, slot api.Slot) {
	st, ok := stats[key]
	if !ok {
		st.States = map[string]int{}
	}
	st.Total++
	if !slot.Enabled {
		st.Disabled++
	}
	if slot.Draining {
		st.Draining++
	}
	if slot.Container != nil {
		st.States[slot.Container.State]++
	}
	stats[key] = st
}

// handleAgents answers GET /api/v1/agents (Determined's GetAgents).
func (s *Server) handleAgents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	offset, limit, ok := pageParams(w, q)
	if !ok {
		return
	}
	exSlots, err := queryBool(q, "excludeSlots")
	var exContainers bool
	if err == nil {
		exContainers, err = queryBool(q, "excludeContainers")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	agents, err := s.agents(r.Context(), currentUser(r), agentParts{slots: !exSlots, containers: !exContainers})
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "cannot list the agents: "+err.Error())
		return
	}
	if q.Get("orderBy") == api.OrderByDesc {
		slices.Reverse(agents)
	}
	pg := paginate(len(agents), offset, limit)
	writeJSON(w, http.StatusOK, api.GetAgentsResponse{Agents: agents[pg.StartIndex:pg.EndIndex], Pagination: pg})
}

// agentByID finds the agent a path's {agentId} names; it answers 404 or
// 503 itself when there is none.
func (s *Server) agentByID(w http.ResponseWriter, r *http.Request) (api.Agent, bool) {
	id := mux.Vars(r)["agentId"]
	agents, err := s.agents(r.Context(), currentUser(r), agentParts{slots: true, containers: true})
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "cannot list the agents: "+err.Error())
		return api.Agent{}, false
	}
	for _, a := range agents {
		if a.ID == id {
			return a, true
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no agent %q (the agents are the Slurm nodes of the resource pools)", id))
	return api.Agent{}, false
}

// handleAgent answers GET /api/v1/agents/{agentId}.
func (s *Server) handleAgent(w http.ResponseWriter, r *http.Request) {
	if a, ok := s.agentByID(w, r); ok {
		writeJSON(w, http.StatusOK, api.GetAgentResponse{Agent: a})
	}
}

// handleSlots answers GET /api/v1/agents/{agentId}/slots.
func (s *Server) handleSlots(w http.ResponseWriter, r *http.Request) {
	a, ok := s.agentByID(w, r)
	if !ok {
		return
	}
	out := make([]api.Slot, 0, len(a.Slots))
	for _, sl := range a.Slots {
		out = append(out, sl)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Device.ID < out[j].Device.ID })
	writeJSON(w, http.StatusOK, api.GetSlotsResponse{Slots: out})
}

// handleSlot answers GET /api/v1/agents/{agentId}/slots/{slotId}.
func (s *Server) handleSlot(w http.ResponseWriter, r *http.Request) {
	a, ok := s.agentByID(w, r)
	if !ok {
		return
	}
	id := mux.Vars(r)["slotId"]
	sl, ok := a.Slots[id]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("agent %s has no slot %q", a.ID, id))
		return
	}
	writeJSON(w, http.StatusOK, api.GetSlotResponse{Slot: sl})
}
