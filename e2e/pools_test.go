package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
)

func poolsByName(t *testing.T) map[string]api.ResourcePool {
	t.Helper()
	var pools []api.ResourcePool
	jsonOut(t, &pools, "resource-pool", "list", "--json")
	m := map[string]api.ResourcePool{}
	for _, p := range pools {
		m[p.Name] = p
	}
	return m
}

// TestResourcePools: capacity per pool, with the GPUs in use while a
// notebook runs, and the default pools marked.
func TestResourcePools(t *testing.T) {
	c := cluster(t)
	pools := poolsByName(t)
	gpu, cpu := pools["gpu"], pools["cpu"]
	if gpu.GPUsTotal != 8 || gpu.NumAgents != 2 || gpu.NodesUp != 2 || !gpu.DefaultComputePool || gpu.GPUType != "a100" ||
		gpu.SlotsAvailable != 8 || gpu.SlotType != api.DeviceTypeCUDA {
		t.Errorf("gpu pool %+v", gpu)
	}
	if cpu.GPUsTotal != 0 || cpu.NumAgents != 1 || !cpu.DefaultAuxPool || cpu.CPUsTotal != 16 || cpu.SlotType != api.DeviceTypeCPU {
		t.Errorf("cpu pool %+v", cpu)
	}
	used0 := gpu.GPUsUsed
	nb := start(t, c, map[string]any{"resources": map[string]any{"slots": 2}})
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	deadline := time.Now().Add(10 * time.Second)
	for {
		gpu = poolsByName(t)["gpu"]
		if gpu.GPUsUsed == used0+2 && gpu.NotebooksRunning >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gpu pool while a 2-GPU notebook runs: %+v (before: %d used)", gpu, used0)
		}
		time.Sleep(500 * time.Millisecond)
	}
	table := run(t, filepath.Join(repo, "bin", "det"), "resource-pool", "list")
	if !strings.Contains(table, "compute") || !strings.Contains(table, "aux") {
		t.Errorf("the table does not mark the defaults:\n%s", table)
	}
}

// TestDefaultPools: slots=1 goes to the default compute pool, slots=0 to
// the default aux pool.
func TestDefaultPools(t *testing.T) {
	c := cluster(t)
	for slots, want := range map[int]string{1: "gpu", 0: "cpu"} {
		nb := start(t, c, map[string]any{"resources": map[string]any{"slots": slots}})
		if nb.ResourcePool != want {
			t.Errorf("slots=%d went to pool %s, want %s", slots, nb.ResourcePool, want)
		}
		_, _ = c.KillNotebook(ctxT(t, 10*time.Second), nb.ID)
	}
}

// TestUnknownPartition: check-config and start-up both name the pool and
// the partition Slurm does not have, and the bridge does not start.
func TestUnknownPartition(t *testing.T) {
	cluster(t)
	data, err := os.ReadFile(filepath.Join(repo, "site-configs", "devcluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	doc := strings.ReplaceAll(string(data), "../", repo+"/")
	doc = strings.Replace(doc, "partition: cpu", "partition: nope", 1)
	doc = strings.Replace(doc, "listen: 127.0.0.1:8080", "listen: 127.0.0.1:18080", 1)
	doc = strings.Replace(doc, "db_path: "+repo+"/.devcluster/bridge/bridge.db", "db_path: "+dir+"/bridge.db", 1)
	cfg := filepath.Join(dir, "site.yaml")
	os.WriteFile(cfg, []byte(doc), 0o644)
	bridgeBin := filepath.Join(repo, "bin", "det-bridge")
	for _, args := range [][]string{{"check-config", cfg}, {"--config", cfg}} {
		cmd := exec.Command(bridgeBin, args...)
		cmd.Env = append(os.Environ(), "SLURM_CONF="+filepath.Join(state, "slurm.conf"))
		done := make(chan struct{})
		time.AfterFunc(20*time.Second, func() {
			select {
			case <-done:
			default:
				cmd.Process.Kill()
			}
		})
		out, err := cmd.CombinedOutput()
		close(done)
		if err == nil || !strings.Contains(string(out), "pool cpu") || !strings.Contains(string(out), `partition "nope"`) {
			t.Errorf("det-bridge %s: %v\n%s", args[0], err, out)
		}
	}
}
