package bridge

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

// setupPools checks every configured pool against Slurm's partitions, adds
// the partitions not listed when auto_pools is on, and settles the default
// compute and aux pools the way Determined does: compute = the default
// partition if it has GPUs, else a GPU partition; aux = the default
// partition.
func (s *Server) setupPools(nodes []slurm.Node) error {
	parts := map[string][]slurm.Node{}
	for _, n := range nodes {
		for _, p := range n.Partitions {
			parts[p] = append(parts[p], n)
		}
	}
	names := make([]string, 0, len(parts))
	for p := range parts {
		names = append(names, p)
	}
	sort.Strings(names)
	for i, p := range s.cfg.ResourcePools {
		pn, ok := parts[p.Partition]
		if !ok {
			return fmt.Errorf("resource_pools[%d] (pool %s): partition %q does not exist in Slurm (partitions: %s)", i, p.Name, p.Partition, strings.Join(names, ", "))
		}
		if p.GPUFromSlurm && maxGPUs(pn) > 0 {
			s.cfg.ResourcePools[i].GPU.Gres = "gpu"
		}
		if p.SlotsPerNode > 0 {
			if most := maxGPUs(pn); most != p.SlotsPerNode {
				return fmt.Errorf("resource_pools[%d] (pool %s): slots_per_node is %d, but Slurm's nodes in partition %s have up to %d GPUs", i, p.Name, p.SlotsPerNode, p.Partition, most)
			}
		}
	}
	if s.cfg.AutoPools {
		for _, name := range names {
			if slices.ContainsFunc(s.cfg.ResourcePools, func(p siteconfig.Pool) bool { return p.Partition == name }) {
				continue
			}
			pool := siteconfig.Pool{Name: name, Partition: name, Description: "Slurm partition " + name}
			if most := maxGPUs(parts[name]); most > 0 {
				pool.GPU = siteconfig.GPU{Gres: "gpu", Type: parts[name][0].GPUType}
			}
			s.cfg.ResourcePools = append(s.cfg.ResourcePools, pool)
			s.log.Info("added a pool for a Slurm partition not in the site config", "pool", name)
		}
	}
	if len(s.cfg.ResourcePools) == 0 {
		return fmt.Errorf("no resource pools: the site config lists none and Slurm reports no partitions")
	}
	def := slurm.DefaultPartition(nodes)
	poolOf := func(partition string) string {
		for _, p := range s.cfg.ResourcePools {
			if p.Partition == partition {
				return p.Name
			}
		}
		return ""
	}
	if s.cfg.DefaultComputePool == "" {
		if maxGPUs(parts[def]) > 0 && poolOf(def) != "" {
			s.cfg.DefaultComputePool = poolOf(def)
		} else {
			for _, p := range s.cfg.ResourcePools {
				if p.GPU.Gres != "" {
					s.cfg.DefaultComputePool = p.Name
					break
				}
			}
		}
	}
	if s.cfg.DefaultAuxPool == "" && poolOf(def) != "" {
		s.cfg.DefaultAuxPool = poolOf(def)
	}
	return nil
}

func maxGPUs(nodes []slurm.Node) int {
	most := 0
	for _, n := range nodes {
		most = max(most, n.GPUs)
	}
	return most
}

// nodeUp reports whether a node in this sinfo state can run jobs.
func nodeUp(state string) bool {
	st := strings.TrimRight(strings.ToLower(state), "*~#!%$@^-")
	for _, bad := range []string{"down", "drain", "fail", "not_responding", "unknown", "future", "maint", "reboot", "power"} {
		if strings.Contains(st, bad) {
			return false
		}
	}
	return true
}

// defaultPool is the pool for a notebook that names none.
func (s *Server) defaultPool(slots int) string {
	if slots > 0 && s.cfg.DefaultComputePool != "" {
		return s.cfg.DefaultComputePool
	}
	if slots == 0 && s.cfg.DefaultAuxPool != "" {
		return s.cfg.DefaultAuxPool
	}
	return s.cfg.DefaultPool(slots)
}

// CheckSlurm checks the site's pools against Slurm's partitions, as start
// does, without starting anything.
func (s *Server) CheckSlurm(ctx context.Context) error {
	nodes, err := s.slurm.Nodes(ctx)
	if err != nil {
		return fmt.Errorf("ask Slurm for its partitions: %w", err)
	}
	return s.setupPools(nodes)
}
