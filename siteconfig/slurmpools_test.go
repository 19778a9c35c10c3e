package siteconfig

import (
	"slices"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/slurm"
)

// testNodes are a cluster with partitions gpu (4 GPUs a node), cpu (the
// default) and debug.
var testNodes = []slurm.Node{
	{Name: "g1", Partitions: []string{"gpu"}, GPUs: 4, GPUType: "a100"},
	{Name: "g2", Partitions: []string{"gpu"}, GPUs: 2, GPUType: "a100"},
	{Name: "c1", Partitions: []string{"debug", "cpu"}, Default: true, DefaultPartition: "cpu"},
}

// TestSettlePoolsErrors: a pool whose partition Slurm lacks, or whose
// slots_per_node its nodes do not match, is refused naming the field; so
// is a site with no pools at all. The texts are the ones the bridge has
// always given.
func TestSettlePoolsErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   Config
		nodes []slurm.Node
		want  string
	}{
		{"unknown partition", Config{ResourcePools: []Pool{{Name: "gpu", Partition: "gpu"}, {Name: "cpu", Partition: "nope"}}}, testNodes,
			`resource_pools[1] (pool cpu): partition "nope" does not exist in Slurm (partitions: cpu, debug, gpu)`},
		{"no partitions", Config{ResourcePools: []Pool{{Name: "cpu", Partition: "cpu"}}}, nil,
			`resource_pools[0] (pool cpu): partition "cpu" does not exist in Slurm (partitions: )`},
		{"slots_per_node", Config{ResourcePools: []Pool{{Name: "gpu", Partition: "gpu", SlotsPerNode: 2}}}, testNodes,
			"resource_pools[0] (pool gpu): slots_per_node is 2, but Slurm's nodes in partition gpu have up to 4 GPUs"},
		{"slots_per_node without GPUs", Config{ResourcePools: []Pool{{Name: "cpu", Partition: "cpu", SlotsPerNode: 1}}}, testNodes,
			"resource_pools[0] (pool cpu): slots_per_node is 1, but Slurm's nodes in partition cpu have up to 0 GPUs"},
		{"no pools", Config{AutoPools: true}, nil,
			"no resource pools: the site config lists none and Slurm reports no partitions"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := slices.Clone(c.cfg.ResourcePools)
			_, err := SettlePools(&c.cfg, c.nodes)
			if err == nil || err.Error() != c.want {
				t.Errorf("got %v\nwant %s", err, c.want)
			}
			if !slices.EqualFunc(before, c.cfg.ResourcePools, func(a, b Pool) bool { return a.Name == b.Name && a.GPU == b.GPU }) {
				t.Errorf("the config changed: %v", c.cfg.ResourcePools)
			}
		})
	}
}

// TestSettlePools: what the pools and the defaults become.
func TestSettlePools(t *testing.T) {
	for _, c := range []struct {
		name                string
		cfg                 Config
		nodes               []slurm.Node
		pools, gres         string // names, and each pool's GRES ("-" for none)
		compute, aux, added string
	}{
		{"as configured", Config{ResourcePools: []Pool{{Name: "gpu", Partition: "gpu", GPU: GPU{Gres: "gpu"}, SlotsPerNode: 4}, {Name: "cpu", Partition: "cpu"}}}, testNodes,
			"gpu cpu", "gpu -", "gpu", "cpu", ""},
		{"defaults kept", Config{DefaultComputePool: "cpu", DefaultAuxPool: "gpu", ResourcePools: []Pool{{Name: "gpu", Partition: "gpu", GPU: GPU{Gres: "gpu"}}, {Name: "cpu", Partition: "cpu"}}}, testNodes,
			"gpu cpu", "gpu -", "cpu", "gpu", ""},
		{"GPUs from Slurm", Config{ResourcePools: []Pool{{Name: "g", Partition: "gpu", GPUFromSlurm: true}, {Name: "c", Partition: "cpu", GPUFromSlurm: true}}}, testNodes,
			"g c", "gpu -", "g", "c", ""},
		{"auto pools", Config{AutoPools: true, ResourcePools: []Pool{{Name: "long", Partition: "gpu", GPU: GPU{Gres: "gpu"}}}}, testNodes,
			"long cpu debug", "gpu - -", "long", "cpu", "cpu debug"},
		{"auto pools only", Config{AutoPools: true}, testNodes,
			"cpu debug gpu", "- - gpu", "gpu", "cpu", "cpu debug gpu"},
		{"default partition with GPUs", Config{AutoPools: true}, []slurm.Node{
			{Name: "g1", Partitions: []string{"gpu"}, GPUs: 4, Default: true, DefaultPartition: "gpu"},
			{Name: "g2", Partitions: []string{"big"}, GPUs: 8}},
			"big gpu", "gpu gpu", "gpu", "gpu", "big gpu"},
		{"default partition without a pool", Config{ResourcePools: []Pool{{Name: "gpu", Partition: "gpu", GPU: GPU{Gres: "gpu"}}}}, testNodes,
			"gpu", "gpu", "gpu", "", ""},
		{"no GPU pool", Config{ResourcePools: []Pool{{Name: "debug", Partition: "debug"}}}, testNodes,
			"debug", "-", "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := SettlePools(&c.cfg, c.nodes)
			if err != nil {
				t.Fatal(err)
			}
			var names, gres []string
			for _, p := range s.Pools {
				names = append(names, p.Name)
				g := p.GPU.Gres
				if g == "" {
					g = "-"
				}
				gres = append(gres, g)
			}
			if got := strings.Join(names, " "); got != c.pools {
				t.Errorf("pools %q, want %q", got, c.pools)
			}
			if got := strings.Join(gres, " "); got != c.gres {
				t.Errorf("gres %q, want %q", got, c.gres)
			}
			if s.DefaultCompute != c.compute || s.DefaultAux != c.aux {
				t.Errorf("defaults %q %q, want %q %q", s.DefaultCompute, s.DefaultAux, c.compute, c.aux)
			}
			if got := strings.Join(s.Added, " "); got != c.added {
				t.Errorf("added %q, want %q", got, c.added)
			}
		})
	}
}

// TestSettlePoolsLeavesConfig: settling changes nothing in the config
// until Apply.
func TestSettlePoolsLeavesConfig(t *testing.T) {
	c := &Config{AutoPools: true, ResourcePools: []Pool{{Name: "g", Partition: "gpu", GPUFromSlurm: true}}}
	s, err := SettlePools(c, testNodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ResourcePools) != 1 || c.ResourcePools[0].GPU.Gres != "" || c.DefaultComputePool != "" || c.DefaultAuxPool != "" {
		t.Fatalf("the config changed: %+v", c)
	}
	s.Apply(c)
	if strings.Join(c.PoolNames(), " ") != "g cpu debug" || c.ResourcePools[0].GPU.Gres != "gpu" || c.DefaultComputePool != "g" || c.DefaultAuxPool != "cpu" {
		t.Errorf("applied: %+v", c)
	}
}

// TestAutoPoolGPUType: a pool made for a partition with GPUs asks for
// them by the type its first node has.
func TestAutoPoolGPUType(t *testing.T) {
	pools, added := addPartitionPools(nil, partitionsOf(testNodes))
	if strings.Join(added, " ") != "cpu debug gpu" {
		t.Fatalf("added %v", added)
	}
	if g := pools[2].GPU; g.Gres != "gpu" || g.Type != "a100" || pools[2].Description != "Slurm partition gpu" {
		t.Errorf("pool gpu: %+v", pools[2])
	}
}

// TestMasterYAMLPools: the pools of a master.yaml take their GPUs from
// Slurm when it gives no slot_type, and every partition is a pool.
func TestMasterYAMLPools(t *testing.T) {
	const doc = `
resource_manager:
  type: slurm
  job_storage_root: /shared/jobs
  container_run_type: apptainer
  default_compute_resource_pool: gpu
  partition_overrides:
    cpu:
      slot_type: cpu
resource_pools:
  - pool_name: long
    provider: {type: hpc, partition: gpu}
task_container_defaults:
  image: /images/nb.sif
`
	cfg, err := Parse([]byte(doc), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	nodes := []slurm.Node{
		{Name: "g1", Partitions: []string{"gpu"}, GPUs: 4, GPUType: "a100"},
		{Name: "c1", Partitions: []string{"cpu", "debug"}, Default: true},
	}
	s, err := SettlePools(cfg, nodes)
	if err != nil {
		t.Fatal(err)
	}
	s.Apply(cfg)
	if got := strings.Join(cfg.PoolNames(), " "); got != "cpu gpu long debug" {
		t.Fatalf("pools %s", got)
	}
	for name, gres := range map[string]string{"gpu": "gpu", "long": "gpu", "cpu": "", "debug": ""} {
		if p, _ := cfg.Pool(name); p.GPU.Gres != gres {
			t.Errorf("pool %s: gres %q, want %q", name, p.GPU.Gres, gres)
		}
	}
	if cfg.DefaultComputePool != "gpu" || cfg.DefaultAuxPool != "cpu" {
		t.Errorf("defaults %s %s", cfg.DefaultComputePool, cfg.DefaultAuxPool)
	}
}
