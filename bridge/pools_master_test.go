package bridge

import (
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

// masterYAML is a Determined master.yaml for a cluster with partitions
// gpu, cpu and debug.
const masterYAML = `
resource_manager:
  type: slurm
  job_storage_root: /shared/jobs
  container_run_type: apptainer
  default_compute_resource_pool: gpu
  partition_overrides:
    cpu:
      slot_type: cpu
      task_container_defaults:
        environment_variables: [PART=cpu]
resource_pools:
  - pool_name: long
    provider: {type: hpc, partition: gpu}
    task_container_defaults:
      environment_variables: [POOL=long]
      slurm: {sbatch_args: [--time=2-00:00:00], gpu_type: a100}
task_container_defaults:
  image: /images/nb.sif
  environment_variables: [SITE=1, POOL=site]
`

func masterServer(t *testing.T) *Server {
	t.Helper()
	cfg, err := siteconfig.Parse([]byte(masterYAML), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return New(cfg, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// TestMasterYAMLPools: the pools of a master.yaml take their GPUs from
// Slurm when it gives no slot_type, and every partition is a pool.
func TestMasterYAMLPools(t *testing.T) {
	s := masterServer(t)
	nodes := []slurm.Node{
		{Name: "g1", Partitions: []string{"gpu"}, GPUs: 4, GPUType: "a100"},
		{Name: "c1", Partitions: []string{"cpu", "debug"}, Default: true},
	}
	if err := s.setupPools(nodes); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.cfg.PoolNames(), " "); got != "cpu gpu long debug" {
		t.Fatalf("pools %s", got)
	}
	for name, gres := range map[string]string{"gpu": "gpu", "long": "gpu", "cpu": "", "debug": ""} {
		if p, _ := s.cfg.Pool(name); p.GPU.Gres != gres {
			t.Errorf("pool %s: gres %q, want %q", name, p.GPU.Gres, gres)
		}
	}
	if s.cfg.DefaultComputePool != "gpu" || s.cfg.DefaultAuxPool != "cpu" {
		t.Errorf("defaults %s %s", s.cfg.DefaultComputePool, s.cfg.DefaultAuxPool)
	}

	empty := masterServer(t)
	empty.cfg.ResourcePools = nil
	if err := empty.setupPools(nil); err == nil || !strings.Contains(err.Error(), "no resource pools") {
		t.Errorf("no partitions: %v", err)
	}
}

// TestMasterYAMLLayers: a notebook in an hpc pool gets the site's, the
// partition's and the pool's defaults, in that order, and the pool's Slurm
// options.
func TestMasterYAMLLayers(t *testing.T) {
	s := masterServer(t)
	cfg, pool, err := s.resolveConfig(map[string]any{"resources": map[string]any{"resource_pool": "long"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Environment.EnvironmentVariables, " "); got != "SITE=1 POOL=long" {
		t.Errorf("environment %s", got)
	}
	if cfg.ImageFor(1) != "/images/nb.sif" {
		t.Errorf("image %s", cfg.ImageFor(1))
	}
	args := s.sbatchArgs(&store.Task{ID: "x", Type: "notebook", Slots: 1, JobDir: "/j"}, cfg, pool)
	for _, want := range []string{"--partition=gpu", "--gres=gpu:a100:1", "--time=2-00:00:00"} {
		if !slices.Contains(args, want) {
			t.Errorf("sbatch args %v lack %s", args, want)
		}
	}
	cfg, _, err = s.resolveConfig(map[string]any{"resources": map[string]any{"resource_pool": "cpu", "slots": 0}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Environment.EnvironmentVariables, " "); got != "SITE=1 POOL=site PART=cpu" {
		t.Errorf("environment in cpu %s", got)
	}
}
