package bridge

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

// handlePools answers GET /api/v1/resource-pools (Determined's
// GetResourcePools): each pool's capacity from the one cached sinfo view,
// and the bridge's notebooks in it. Determined's `unbound` parameter
// changes nothing: no pool is bound to a workspace.
func (s *Server) handlePools(w http.ResponseWriter, r *http.Request) {
	offset, limit, ok := pageParams(w, r.URL.Query())
	if !ok {
		return
	}
	pools, err := s.poolsStatus(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "cannot ask Slurm for the pools' capacity: "+err.Error())
		return
	}
	pg := paginate(len(pools), offset, limit)
	writeJSON(w, http.StatusOK, api.GetResourcePoolsResponse{ResourcePools: pools[pg.StartIndex:pg.EndIndex], Pagination: pg})
}

func (s *Server) poolsStatus(ctx context.Context) ([]api.ResourcePool, error) {
	nodes, live, err := s.poolNodesAndLiveTasks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.ResourcePool, 0, len(s.cfg.ResourcePools))
	for _, p := range s.cfg.ResourcePools {
		rp := s.poolOf(p, nodes[p.Cluster])
		if s.multiCluster() {
			rp.Cluster = s.cfg.ClusterLabel(p.Cluster)
		}
		rp.SlurmStale = s.view.clusterStatus(p.Cluster).Stale
		for _, t := range live {
			if t.Pool != p.Name {
				continue
			}
			switch t.State {
			case api.StateQueued:
				rp.NotebooksQueued++
			case api.StateStarting, api.StateRunning:
				rp.NotebooksRunning++
				if t.Slots == 0 {
					rp.AuxContainersRunning++
				}
			}
		}
		rp.Stats = api.QueueStats{QueuedCount: rp.NotebooksQueued, ScheduledCount: rp.NotebooksRunning}
		if cfg, _, err := s.resolveConfig(map[string]any{"resources": map[string]any{"resource_pool": p.Name, "slots": min(1, rp.SlotsPerAgent)}}); err == nil {
			rp.IdleTimeout = cfg.IdleTimeout
			rp.Image = cfg.ImageFor(min(1, rp.SlotsPerAgent))
		}
		out = append(out, rp)
	}
	return out, nil
}

// poolNodesAndLiveTasks returns each cluster's nodes (from the cached
// views) and the live tasks. A cluster that does not answer, and never
// did, has no nodes (its pools show none); an error only when no cluster
// answers.
func (s *Server) poolNodesAndLiveTasks(ctx context.Context) (map[string][]slurm.Node, []*store.Task, error) {
	by := map[string][]slurm.Node{}
	var firstErr error
	for _, cl := range s.clusters() {
		nodes, err := s.clusterNodes(ctx, cl)
		if err != nil {
			firstErr = cmp.Or(firstErr, clusterErr(cl, err))
			continue
		}
		by[cl] = nodes
	}
	if len(by) == 0 {
		return nil, nil, fmt.Errorf("ask Slurm for its nodes: %w", firstErr)
	}
	live, err := s.store.LiveTasks(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list live tasks: %w", err)
	}
	return by, live, nil
}

// poolOf is pool p and the capacity of its partition's nodes, as
// Determined's v1ResourcePool: a static pool scheduled by Slurm, whose
// agents are the partition's nodes and whose slots are their GPUs.
func (s *Server) poolOf(p siteconfig.Pool, nodes []slurm.Node) api.ResourcePool {
	rp := api.ResourcePool{
		Name: p.Name, Description: p.Description, Type: api.ResourcePoolStatic,
		SlotType: api.DeviceTypeCPU, SchedulerType: api.SchedulerTypeSlurm, SchedulerFittingPolicy: api.FittingPolicySlurm,
		DefaultComputePool: p.Name == s.cfg.DefaultComputePool, DefaultAuxPool: p.Name == s.cfg.DefaultAuxPool,
		ResourceManagerMetadata: map[string]string{}, Accelerator: p.GPU.Type,
		Partition: p.Partition, GPUType: p.GPU.Type, MaxSlots: p.MaxSlots,
		// Preemptible, as Determined has it: Slurm may preempt the pool's
		// notebooks, and they come back (preempt.go).
		Preemptible:        p.Preemptible,
		MaxWalltimeSeconds: int64(p.MaxWalltimeLimit / time.Second), MaxExtensions: p.MaxExtensions,
	}
	for _, n := range nodes {
		if !slices.Contains(n.Partitions, p.Partition) {
			continue
		}
		rp.NumAgents++
		if slurm.NodeUp(n.State) {
			rp.NodesUp++
		}
		rp.CPUsTotal += n.CPUs
		rp.CPUsUsed += n.CPUsAlloc
		if p.GPU.Gres != "" {
			rp.GPUsTotal += n.GPUs
			rp.GPUsUsed += n.GPUsUsed
			rp.SlotsPerAgent = max(rp.SlotsPerAgent, n.GPUs)
		}
	}
	if rp.GPUsTotal > 0 {
		rp.SlotType = api.DeviceTypeCUDA
	}
	rp.SlotsAvailable, rp.SlotsUsed = rp.GPUsTotal, rp.GPUsUsed
	return rp
}
