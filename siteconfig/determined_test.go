package siteconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestDevclusterMaster: the dev cluster's master.yaml maps to the settings
// of devcluster.yaml wherever both say something.
func TestDevclusterMaster(t *testing.T) {
	own, err := Load("../site-configs/devcluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	det, err := Load("../site-configs/devcluster-master.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if own.Determined != nil || det.Determined == nil {
		t.Fatalf("format detection: own %v, master %v", own.Determined != nil, det.Determined != nil)
	}
	same := func(what string, a, b any) {
		t.Helper()
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: devcluster.yaml %#v, devcluster-master.yaml %#v", what, a, b)
		}
	}
	same("external_url", own.ExternalURL, det.ExternalURL)
	same("callback_url", own.CallbackURL, det.CallbackURL)
	same("port", own.Listen[strings.LastIndex(own.Listen, ":"):], det.Listen)
	same("job_storage_root", own.JobStorageRoot, det.JobStorageRoot)
	same("shared_fs_path", own.SharedFSPath, det.SharedFSPath)
	same("container_runtime.type", own.ContainerRuntime.Type, det.ContainerRuntime.Type)
	if _, err := os.Stat(own.ContainerRuntime.Binary); err == nil {
		// Found in resource_manager.path only where make up has built it.
		same("container_runtime.binary", own.ContainerRuntime.Binary, det.ContainerRuntime.Binary)
	}
	same("default_images", own.DefaultImages, det.DefaultImages)
	same("default_compute_pool", own.DefaultComputePool, det.DefaultComputePool)
	same("default_aux_pool", own.DefaultAuxPool, det.DefaultAuxPool)
	same("task_container_defaults", len(own.TaskContainerDefaults), len(det.TaskContainerDefaults))
	same("notebook_timeout", own.NotebookTimeout, det.NotebookTimeout)
	// A pool that sets proxy_mode, is preemptible, or is on another
	// Slurm cluster says what a master.yaml cannot.
	var expressible []Pool
	for _, p := range own.ResourcePools {
		if p.ProxyMode == "" && !p.Preemptible && p.Cluster == "" {
			expressible = append(expressible, p)
		}
	}
	same("pool count", len(expressible), len(det.ResourcePools))
	for _, p := range expressible {
		q, ok := det.Pool(p.Name)
		if !ok {
			t.Errorf("pool %s missing from the master.yaml's pools %v", p.Name, det.PoolNames())
			continue
		}
		same("pool "+p.Name+" partition", p.Partition, q.Partition)
		same("pool "+p.Name+" description", p.Description, q.Description)
		same("pool "+p.Name+" gpu", p.GPU, q.GPU)
		same("pool "+p.Name+" sbatch_args", p.SbatchArgs, q.SbatchArgs)
		same("pool "+p.Name+" task_defaults", len(p.Defaults), len(q.Defaults))
	}
	if !strings.HasPrefix(det.Listen, ":") || !det.AutoPools {
		t.Errorf("a master listens on all interfaces and has a pool per partition: %s %v", det.Listen, det.AutoPools)
	}
	lines := mappedText(det)
	for _, want := range []string{
		"resource_manager.job_storage_root -> job_storage_root = " + own.JobStorageRoot,
		"resource_manager.user_name -> unused (drives Determined's launcher",
		"db -> unused (the bridge keeps its state in SQLite at db_path)",
		"resource_pools[0].task_container_defaults.slurm.sbatch_args -> pool interactive: sbatch_args += --account=physics --qos=interactive",
		"resource_manager.partition_overrides.gpu.slot_type -> pools gpu, interactive: gpu.gres = gpu",
		"(not in master.yaml) -> db_path = " + defaultDBPath,
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("check-config lines lack %q:\n%s", want, lines)
		}
	}
}

func mappedText(c *Config) string {
	var b strings.Builder
	for _, m := range c.Determined {
		b.WriteString(m.String() + "\n")
	}
	return b.String()
}

const minimal = `resource_manager:
  type: slurm
  job_storage_root: /shared/jobs
  apptainer_image_root: /shared/images
`

// TestDeterminedMisspelled: a field Determined does not have is an error
// with its line, in the file's name:line form, and the nearest field.
func TestDeterminedMisspelled(t *testing.T) {
	data, err := os.ReadFile("../site-configs/devcluster-master.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "  job_storage_root:", "  job_storage_roots:", 1)
	line := 1 + strings.Count(text[:strings.Index(text, "job_storage_roots")], "\n")
	f := filepath.Join(t.TempDir(), "master.yaml")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(f)
	want := f + ":" + strconv.Itoa(line) + ": field job_storage_roots not found in resource_manager of a Determined master.yaml; did you mean job_storage_root?"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestDeterminedErrors(t *testing.T) {
	cases := []struct{ doc, want string }{
		{minimal + "bogus: 1\n", "line 5: field bogus not found at the top level"},
		{minimal + "task_container_defaults:\n  imag: x.sif\n", "line 6: field imag not found in task_container_defaults of a Determined master.yaml; did you mean image?"},
		{strings.Replace(minimal, "type: slurm", "type: pbs", 1), "line 2: resource_manager.type: pbs: the bridge drives Slurm only"},
		{"resource_manager:\n  job_storage_root: /x\n", "line 1: resource_manager.type: required"},
		{"resource_pools:\n  - pool_name: a\n    provider: {type: hpc, partition: a}\n", "resource_manager: missing"},
		{minimal + "  container_run_type: podman\n", "line 5: resource_manager.container_run_type: podman is not a container runtime the bridge can run (it runs apptainer, singularity)"},
		{minimal + "  container_run_type: enroot\n", "enroot is not a container runtime"},
		{minimal + "  slot_type: rocm\n", "line 5: resource_manager.slot_type: rocm: the bridge runs containers with NVIDIA GPUs only"},
		{minimal + "  singularity_image_root: /y\n", "line 5: resource_manager.singularity_image_root: resource_manager.apptainer_image_root is set too"},
		{strings.Replace(minimal, "  job_storage_root: /shared/jobs\n", "", 1), "line 1: resource_manager.job_storage_root: required"},
		{minimal + "security:\n  tls: {cert: /c.pem, key: /k.pem}\n", "line 6: security.tls: the bridge does not serve TLS itself"},
		{minimal + "port: 70000\n", "line 5: port: 70000 is not a TCP port"},
		{minimal + "notebook_timeout: 1h\n", `line 5: notebook_timeout: "1h" is not a whole number`},
		{minimal + "task_container_defaults:\n  image: docker://determinedai/x:1\n", `line 6: task_container_defaults.image: "docker://determinedai/x:1" is a registry image`},
		{strings.Replace(minimal, "  apptainer_image_root: /shared/images\n", "", 1) + "task_container_defaults:\n  image: x.sif\n", `task_container_defaults.image: "x.sif" has no folder, and resource_manager has no apptainer_image_root`},
		{minimal + "task_container_defaults:\n  environment_variables: {cpu: [A=1], cuda: [A=2]}\n", "line 6: task_container_defaults.environment_variables: the bridge sets one list"},
		{minimal + "task_container_defaults:\n  environment_variables: [\"1A=x\"]\n", `line 6: task_container_defaults.environment_variables[0]: "1A=x" must be NAME=VALUE`},
		{minimal + "task_container_defaults:\n  slurm: {sbatch_args: [--partition=x]}\n", `line 6: task_container_defaults.slurm.sbatch_args[0]: "--partition=x" is set by the bridge`},
		{minimal + "task_container_defaults:\n  bind_mounts: [{host_path: /a}]\n", "line 6: task_container_defaults.bind_mounts[0]: host_path and container_path are required"},
		{minimal + "resource_pools:\n  - pool_name: a\n    provider: {type: aws}\n", `line 7: resource_pools[0].provider.type: "aws": on Slurm a resource pool's provider is {type: hpc, partition: NAME}`},
		{minimal + "resource_pools:\n  - description: a\n    provider: {type: hpc, partition: p}\n", "line 6: resource_pools[0].pool_name: required"},
		{minimal + "resource_pools:\n  - pool_name: a\n", "line 6: resource_pools[0].provider: required"},
		{minimal + "resource_pools:\n  - {pool_name: a, provider: {type: hpc, partition: p}}\n  - {pool_name: a, provider: {type: hpc, partition: q}}\n", "line 7: resource_pools[1].pool_name: a is the name of resource_pools entry resource_pools[0] too"},
		{minimal + "  partition_overrides:\n    gpu: {slot_typ: cuda}\n", "line 6: field slot_typ not found in resource_manager.partition_overrides.gpu of a Determined master.yaml; did you mean slot_type?"},
		{minimal + "  partition_overrides:\n    gpu: {}\n    GPU: {}\n", "line 7: resource_manager.partition_overrides.GPU: partition gpu is overridden twice"},
		{minimal + "  gres_supported: maybe\n", `line 5: resource_manager.gres_supported: "maybe" is not true or false`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc), "/x")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v\nwant %q\nin\n%s", err, c.want, c.doc)
		}
	}
}

// TestDeterminedMapping: the layers of task_container_defaults, the pools
// and the resource manager's settings become the bridge's.
func TestDeterminedMapping(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "singularity"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", "/usr/bin:/bin")
	doc := `
port: 8443
notebook_timeout: 5400
cluster_name: hpc
resource_manager:
  type: slurm
  host: launcher.local
  launcher_jvm_args: -Xmx1g
  job_storage_root: jobs
  singularity_image_root: /images
  slot_type: cuda
  path: PATH=/nowhere:` + bin + `:${PATH}
  ld_library_path: /opt/slurm/lib
  default_aux_resource_pool: login
  partition_overrides:
    a100:
      description: A100 nodes
      task_container_defaults:
        environment_variables: [NCCL_DEBUG=INFO]
        slurm: {sbatch_args: [--qos=gpu], gpu_type: a100}
    Cpu:
      slot_type: cpu
resource_pools:
  - pool_name: a100-long
    provider: {type: hpc, partition: A100}
    max_aux_containers_per_agent: 4
    task_container_defaults:
      image: {cuda: long.sif}
      environment_variables: {cpu: [MODE=long], cuda: [MODE=long]}
      slurm: {sbatch_args: [--time=3-00:00:00], slots_per_node: 4}
  - pool_name: debug
    provider: {type: hpc, partition: debug}
task_container_defaults:
  shm_size_bytes: 1000
  image: {cpu: /img/cpu.sif, gpu: cuda.sif, rocm: rocm.sif}
  environment_variables: [HF_HOME=/scratch/hf]
  bind_mounts:
    - {host_path: /scratch, container_path: /scratch, propagation: rprivate}
    - {host_path: /datasets, container_path: /data, read_only: true}
  slurm: {sbatch_args: [--account=ml], gpu_type: v100}
`
	c, err := Parse([]byte(doc), "/etc/det")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":8443" || c.NotebookTimeout != "90m" || c.JobStorageRoot != "/etc/det/jobs" {
		t.Errorf("listen %s, notebook_timeout %s, job_storage_root %s", c.Listen, c.NotebookTimeout, c.JobStorageRoot)
	}
	if c.ContainerRuntime.Type != "singularity" || c.ContainerRuntime.Binary != filepath.Join(bin, "singularity") {
		t.Errorf("runtime %+v", c.ContainerRuntime)
	}
	if got := c.SlurmEnv["PATH"]; got != "/nowhere:"+bin+":/usr/bin:/bin" {
		t.Errorf("slurm_env.PATH = %s", got)
	}
	if c.SlurmEnv["LD_LIBRARY_PATH"] != "/opt/slurm/lib" {
		t.Errorf("slurm_env = %v", c.SlurmEnv)
	}
	if c.DefaultImages != (Images{CPU: "/img/cpu.sif", CUDA: "/images/cuda.sif"}) {
		t.Errorf("default_images %+v", c.DefaultImages)
	}
	if got := strings.Join(c.AllowedBindPrefixes, " "); got != "/scratch /datasets" {
		t.Errorf("allowed_bind_prefixes %s", got)
	}
	wantTCD := map[string]any{
		"environment": map[string]any{"environment_variables": []any{"HF_HOME=/scratch/hf"}},
		"bind_mounts": []any{
			map[string]any{"host_path": "/scratch", "container_path": "/scratch", "read_only": false},
			map[string]any{"host_path": "/datasets", "container_path": "/data", "read_only": true},
		},
		"slurm": map[string]any{"sbatch_args": []any{"--account=ml"}},
	}
	if !reflect.DeepEqual(c.TaskContainerDefaults, wantTCD) {
		t.Errorf("task_container_defaults %#v", c.TaskContainerDefaults)
	}
	if got := strings.Join(c.PoolNames(), " "); got != "a100 Cpu login a100-long debug" {
		t.Fatalf("pools %s", got)
	}
	a100, _ := c.Pool("a100")
	if a100.Description != "A100 nodes" || a100.GPU != (GPU{Gres: "gpu", Type: "a100"}) || strings.Join(a100.SbatchArgs, " ") != "--qos=gpu" {
		t.Errorf("a100 %+v", a100)
	}
	long, _ := c.Pool("a100-long")
	if long.Partition != "A100" || long.GPU != (GPU{Gres: "gpu", Type: "a100"}) || strings.Join(long.SbatchArgs, " ") != "--qos=gpu --time=3-00:00:00" {
		t.Errorf("a100-long %+v", long)
	}
	wantLong := map[string]any{"environment": map[string]any{
		"environment_variables": []any{"NCCL_DEBUG=INFO", "MODE=long"},
		"image":                 map[string]any{"cuda": "/images/long.sif"},
	}}
	if !reflect.DeepEqual(long.Defaults, wantLong) {
		t.Errorf("a100-long task_defaults %#v", long.Defaults)
	}
	cpu, _ := c.Pool("Cpu")
	if cpu.GPU.Gres != "" || cpu.GPUFromSlurm {
		t.Errorf("slot_type cpu: %+v", cpu)
	}
	debug, _ := c.Pool("debug")
	login, _ := c.Pool("login")
	if debug.GPU != (GPU{Gres: "gpu", Type: "v100"}) || login.Partition != "login" || c.DefaultAuxPool != "login" {
		t.Errorf("debug %+v, login %+v, aux %s", debug, login, c.DefaultAuxPool)
	}
	lines := mappedText(c)
	for _, want := range []string{
		"port -> listen = :8443",
		"cluster_name -> unused (the bridge has no cluster name)",
		"resource_manager.host -> unused (drives Determined's launcher)",
		"resource_manager.launcher_jvm_args -> unused (drives Determined's launcher)",
		"resource_manager.path -> slurm_env.PATH = /nowhere:" + bin + ":${PATH}",
		"resource_manager.path -> container_runtime.binary = " + filepath.Join(bin, "singularity") + " (found there)",
		"resource_pools[0].max_aux_containers_per_agent -> unused (a Determined agent setting)",
		"resource_pools[0].task_container_defaults.slurm.slots_per_node -> unused",
		"task_container_defaults.shm_size_bytes -> unused (a Docker setting)",
		"task_container_defaults.image.rocm -> unused",
		"task_container_defaults.slurm.gpu_type -> pools login, debug: gpu.type = v100",
		"resource_manager.partition_overrides.a100.task_container_defaults.slurm.sbatch_args -> pools a100, a100-long: sbatch_args += --qos=gpu (the pool's policy)",
		"resource_manager.slot_type -> pools a100, login, a100-long, debug: gpu.gres = gpu",
		"task_container_defaults.bind_mounts -> task_container_defaults.bind_mounts = /scratch:/scratch /datasets:/data:ro",
		"task_container_defaults.bind_mounts[0].propagation -> unused",
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("lines lack %q:\n%s", want, lines)
		}
	}
	last := 0
	for _, m := range c.Determined {
		if m.Line != 0 && m.Line < last {
			t.Errorf("lines out of file order at %s", m)
		}
		last = max(last, m.Line)
	}
}

// TestDeterminedGPUs: without slot_type a pool's GPUs are left to Slurm;
// with gres_supported false no pool has any.
func TestDeterminedGPUs(t *testing.T) {
	doc := minimal + "  default_compute_resource_pool: gpu\n"
	c, err := Parse([]byte(doc), "/x")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Pool("gpu")
	if !p.GPUFromSlurm || p.GPU.Gres != "" || c.ContainerRuntime.Type != "apptainer" {
		t.Errorf("pool %+v, runtime %s", p, c.ContainerRuntime.Type)
	}
	c, err = Parse([]byte(doc+"  gres_supported: false\n  slot_type: cuda\n"), "/x")
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := c.Pool("gpu"); p.GPUFromSlurm || p.GPU.Gres != "" {
		t.Errorf("gres_supported false: %+v", p)
	}
	if !strings.Contains(mappedText(c), "resource_manager.gres_supported -> every pool has no GPUs") {
		t.Errorf("lines:\n%s", mappedText(c))
	}
	// No pool listed at all: every partition is found when the bridge starts.
	c, err = Parse([]byte(minimal), "/x")
	if err != nil || len(c.ResourcePools) != 0 || !c.AutoPools {
		t.Errorf("no pools: %v %+v", err, c)
	}
}

// TestDeterminedDetection: only a resource_manager, or pools with a
// provider, make a file a master.yaml; the bridge's own format with
// resource_pools stays its own.
func TestDeterminedDetection(t *testing.T) {
	if c, err := Parse([]byte(good), "/x"); err != nil || c.Determined != nil {
		t.Errorf("own format: %v", err)
	}
	if _, err := Parse([]byte(good+"resource_manager: {type: slurm}\n"), "/x"); err == nil || !strings.Contains(err.Error(), "field db_path not found at the top level of a Determined master.yaml") {
		t.Errorf("mixed formats: %v", err)
	}
}

func TestDeterminedDefaults(t *testing.T) {
	defer func(e func() (string, error), h func() (string, error)) { executable, hostname = e, h }(executable, hostname)
	executable = func() (string, error) { return "/opt/det/bin/det-bridge", nil }
	hostname = func() (string, error) { return "login01", nil }
	c, err := Parse([]byte(minimal+"  master_port: 9000\n"), "/x")
	if err != nil {
		t.Fatal(err)
	}
	if c.LauncherPath != "/opt/det/bin/det-launcher" || c.CLIPath != "/opt/det/bin/det" || c.DBPath != defaultDBPath {
		t.Errorf("launcher %s, cli %s, db %s", c.LauncherPath, c.CLIPath, c.DBPath)
	}
	if c.ExternalURL != "http://login01:8080" || c.CallbackURL != "http://login01:9000" || c.Listen != ":8080" {
		t.Errorf("external %s, callback %s, listen %s", c.ExternalURL, c.CallbackURL, c.Listen)
	}
	if !strings.Contains(mappedText(c), "(not in master.yaml) -> external_url = http://login01:8080 (give the URL users open as webhooks.base_url)") {
		t.Errorf("lines:\n%s", mappedText(c))
	}
}

// TestDeterminedPartitionPoolNamed: an hpc pool named as its partition is
// that partition's pool, with the partition's overrides and its own.
func TestDeterminedPartitionPoolNamed(t *testing.T) {
	doc := minimal + `  partition_overrides:
    gpu: {description: GPU partition, slot_type: cuda}
resource_pools:
  - pool_name: gpu
    provider: {type: hpc, partition: gpu}
    task_container_defaults:
      slurm: {sbatch_args: [--qos=x]}
`
	c, err := Parse([]byte(doc), "/x")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Pool("gpu")
	if len(c.ResourcePools) != 1 || p.Description != "GPU partition" || p.GPU.Gres != "gpu" || strings.Join(p.SbatchArgs, " ") != "--qos=x" {
		t.Errorf("pools %+v", c.ResourcePools)
	}
	doc = strings.Replace(doc, "partition: gpu}", "partition: other}", 1)
	if _, err := Parse([]byte(doc), "/x"); err == nil || !strings.Contains(err.Error(), "line 8: resource_pools[0].pool_name: gpu is the name of partition gpu's pool") {
		t.Errorf("a pool named as another partition: %v", err)
	}
}
