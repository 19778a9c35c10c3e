package bridge

import (
	"bytes"
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

// TestSetupPools: the pools settled against Slurm (package siteconfig)
// become the bridge's, and each pool made for a partition is logged; a
// refusal leaves the config as it was.
func TestSetupPools(t *testing.T) {
	s := masterServer(t)
	var logged bytes.Buffer
	s.log = slog.New(slog.NewTextHandler(&logged, nil))
	nodes := []slurm.Node{
		{Name: "g1", Partitions: []string{"gpu"}, GPUs: 4, GPUType: "a100"},
		{Name: "c1", Partitions: []string{"cpu", "debug"}, Default: true},
	}
	if err := s.setupPools(map[string][]slurm.Node{"": nodes}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.cfg.PoolNames(), " "); got != "cpu gpu long debug" {
		t.Fatalf("pools %s", got)
	}
	if s.cfg.DefaultComputePool != "gpu" || s.cfg.DefaultAuxPool != "cpu" || s.defaultPool(1) != "gpu" || s.defaultPool(0) != "cpu" {
		t.Errorf("defaults %s %s", s.cfg.DefaultComputePool, s.cfg.DefaultAuxPool)
	}
	if !strings.Contains(logged.String(), "added a pool for a Slurm partition not in the site config") || !strings.Contains(logged.String(), "pool=debug") {
		t.Errorf("log:\n%s", logged.String())
	}

	empty := masterServer(t)
	empty.cfg.ResourcePools = nil
	if err := empty.setupPools(nil); err == nil || !strings.Contains(err.Error(), "no resource pools") {
		t.Errorf("no partitions: %v", err)
	}
	bad := masterServer(t)
	before := strings.Join(bad.cfg.PoolNames(), " ")
	if err := bad.setupPools(map[string][]slurm.Node{"": nodes[1:]}); err == nil || !strings.Contains(err.Error(), `partition "gpu" does not exist in Slurm`) {
		t.Errorf("no partition gpu: %v", err)
	}
	if got := strings.Join(bad.cfg.PoolNames(), " "); got != before {
		t.Errorf("pools after a refusal %s, before %s", got, before)
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
