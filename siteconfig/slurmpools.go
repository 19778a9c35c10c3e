package siteconfig

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/det-slurm/bridge/slurm"
)

// SettledPools are a site's pools as Slurm's partitions settle them: each
// configured pool checked against its partition, a pool for every other
// partition when auto_pools is on, and the default compute and aux pools
// chosen the way Determined does.
type SettledPools struct {
	Pools          []Pool
	DefaultCompute string
	DefaultAux     string
	// Added names the pools made for partitions the config does not list.
	Added []string
}

// Apply puts the settled pools into c.
func (s SettledPools) Apply(c *Config) {
	c.ResourcePools = s.Pools
	c.DefaultComputePool = s.DefaultCompute
	c.DefaultAuxPool = s.DefaultAux
}

// SettlePools checks c's pools against the local cluster's nodes and
// settles them; c is not changed. An error names the field at fault.
func SettlePools(c *Config, nodes []slurm.Node) (SettledPools, error) {
	return SettleClusterPools(c, map[string][]slurm.Node{"": nodes})
}

// SettleClusterPools is SettlePools for a site of several clusters: each
// pool is checked against its own cluster's nodes (byCluster, keyed by
// cluster name, "" the local one). auto_pools and the default pools
// follow the local cluster's partitions.
func SettleClusterPools(c *Config, byCluster map[string][]slurm.Node) (SettledPools, error) {
	parts := partitionsOf(byCluster[""])
	pools, err := checkPartitions(c.ResourcePools, func(cluster string) map[string][]slurm.Node {
		if cluster == "" {
			return parts
		}
		return partitionsOf(byCluster[cluster])
	})
	if err != nil {
		return SettledPools{}, err
	}
	s := SettledPools{Pools: pools, DefaultCompute: c.DefaultComputePool, DefaultAux: c.DefaultAuxPool}
	if c.AutoPools {
		s.Pools, s.Added = addPartitionPools(s.Pools, parts)
	}
	if len(s.Pools) == 0 {
		return SettledPools{}, errors.New("no resource pools: the site config lists none and Slurm reports no partitions")
	}
	s.DefaultCompute, s.DefaultAux = defaultPools(s.Pools, parts, slurm.DefaultPartition(byCluster[""]), s.DefaultCompute, s.DefaultAux)
	return s, nil
}

// partitionsOf groups the nodes by partition; a node in several is in
// each.
func partitionsOf(nodes []slurm.Node) map[string][]slurm.Node {
	parts := map[string][]slurm.Node{}
	for _, n := range nodes {
		for _, p := range n.Partitions {
			parts[p] = append(parts[p], n)
		}
	}
	return parts
}

// partitionNames are the partitions' names, sorted.
func partitionNames(parts map[string][]slurm.Node) []string {
	names := make([]string, 0, len(parts))
	for p := range parts {
		names = append(names, p)
	}
	sort.Strings(names)
	return names
}

// checkPartitions returns a copy of pools in which every pool's partition
// exists in its cluster (partsOf) and its slots_per_node matches its
// nodes' GPUs; a pool that takes its GPUs from Slurm asks for GRES gpu
// when its nodes have some.
func checkPartitions(pools []Pool, partsOf func(cluster string) map[string][]slurm.Node) ([]Pool, error) {
	out := slices.Clone(pools)
	for i, p := range out {
		parts := partsOf(p.Cluster)
		pn, ok := parts[p.Partition]
		if !ok {
			where := "Slurm"
			if p.Cluster != "" {
				where = "Slurm cluster " + p.Cluster
			}
			return nil, fmt.Errorf("resource_pools[%d] (pool %s): partition %q does not exist in %s (partitions: %s)", i, p.Name, p.Partition, where, strings.Join(partitionNames(parts), ", "))
		}
		most := slurm.MaxGPUs(pn)
		if p.GPUFromSlurm && most > 0 {
			out[i].GPU.Gres = "gpu"
		}
		if p.SlotsPerNode > 0 && most != p.SlotsPerNode {
			return nil, fmt.Errorf("resource_pools[%d] (pool %s): slots_per_node is %d, but Slurm's nodes in partition %s have up to %d GPUs", i, p.Name, p.SlotsPerNode, p.Partition, most)
		}
	}
	return out, nil
}

// addPartitionPools appends a pool for each partition no pool uses, in
// name order, and returns the pools and the names of those added.
func addPartitionPools(pools []Pool, parts map[string][]slurm.Node) ([]Pool, []string) {
	var added []string
	for _, name := range partitionNames(parts) {
		if slices.ContainsFunc(pools, func(p Pool) bool { return p.Partition == name && p.Cluster == "" }) {
			continue
		}
		pool := Pool{Name: name, Partition: name, Description: "Slurm partition " + name}
		if slurm.MaxGPUs(parts[name]) > 0 {
			pool.GPU = GPU{Gres: "gpu", Type: parts[name][0].GPUType}
		}
		pools = append(pools, pool)
		added = append(added, name)
	}
	return pools, added
}

// defaultPools settles the default compute and aux pools that compute and
// aux leave unset: compute is the pool of Slurm's default partition def if
// it has GPUs, else the first pool with GPUs; aux is the pool of def.
func defaultPools(pools []Pool, parts map[string][]slurm.Node, def, compute, aux string) (string, string) {
	poolOf := ""
	for _, p := range pools {
		if p.Partition == def && p.Cluster == "" {
			poolOf = p.Name
			break
		}
	}
	if compute == "" {
		if slurm.MaxGPUs(parts[def]) > 0 && poolOf != "" {
			compute = poolOf
		} else {
			for _, p := range pools {
				if p.GPU.Gres != "" {
					compute = p.Name
					break
				}
			}
		}
	}
	if aux == "" {
		aux = poolOf
	}
	return compute, aux
}
