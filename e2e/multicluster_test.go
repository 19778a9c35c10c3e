package e2e

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

// The dev cluster's second Slurm cluster and its pool: partition gpu2,
// node c2-gpu01 with two GPUs, registered in the same slurmdbd.
const (
	localCluster  = "devcluster" // the first cluster's ClusterName, which the bridge shows
	secondCluster = "devcluster2"
	secondPool    = "gpu2"
)

// twoClusterSite skips the test unless the dev site config has the second
// cluster and its pool, then returns a client of the bridge.
func twoClusterSite(t *testing.T) *client.Client {
	t.Helper()
	cfg, err := siteconfig.Load(filepath.Join(repo, "site-configs", "devcluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	has := slices.ContainsFunc(cfg.Clusters, func(cl siteconfig.Cluster) bool { return cl.Name == secondCluster })
	if p, ok := cfg.Pool(secondPool); !has || !ok || p.Cluster != secondCluster {
		t.Skipf("the dev site config has no second Slurm cluster %s with pool %s (clusters: and a pool with cluster: %s)", secondCluster, secondPool, secondCluster)
	}
	return cluster(t)
}

// jobsOn lists a cluster's pending and running jobs ("" the local one):
// job id by job name. Output of -M starts with a CLUSTER: line.
func jobsOn(t *testing.T, slurmCluster string) map[string]string {
	t.Helper()
	args := []string{"-h", "-t", "PENDING,RUNNING", "-o", "%i|%j"}
	if slurmCluster != "" {
		args = append([]string{"-M", slurmCluster}, args...)
	}
	jobs := map[string]string{}
	for _, line := range strings.Split(string(slurm.DropClusterHeaders([]byte(run(t, "squeue", args...)))), "\n") {
		if id, name, ok := strings.Cut(strings.TrimSpace(line), "|"); ok {
			jobs[name] = id
		}
	}
	return jobs
}

// TestTwoClusters: a notebook of the second cluster's pool runs there (its
// job is in that cluster's squeue, its kernel sees the GPU Slurm gave it)
// while one of the first cluster runs; both answer through the one bridge,
// and killing each cancels its own job on its own cluster.
func TestTwoClusters(t *testing.T) {
	c := twoClusterSite(t)
	nbB := start(t, c, map[string]any{"resources": map[string]any{"resource_pool": secondPool, "slots": 1}})
	nbA := start(t, c, map[string]any{"resources": map[string]any{"slots": 1}})
	nbB = waitState(t, c, nbB.ID, api.StateRunning, startWithin)
	nbA = waitState(t, c, nbA.ID, api.StateRunning, startWithin)
	if nbB.Cluster != secondCluster || nbA.Cluster != localCluster {
		t.Errorf("clusters shown: %q for %s's notebook, %q for the local one's", nbB.Cluster, secondPool, nbA.Cluster)
	}
	nameA, nameB := slurm.JobName("notebook", nbA.ID), slurm.JobName("notebook", nbB.ID)
	onA, onB := jobsOn(t, ""), jobsOn(t, secondCluster)
	if onB[nameB] != nbB.SlurmJobID || onA[nameA] != nbA.SlurmJobID {
		t.Fatalf("jobs: %s's job %s, squeue -M %s shows %q; the local job %s, squeue shows %q",
			secondPool, nbB.SlurmJobID, secondCluster, onB[nameB], nbA.SlurmJobID, onA[nameA])
	}
	if _, ok := onA[nameB]; ok {
		t.Errorf("the notebook of %s has a job on the local cluster", secondPool)
	}
	if _, ok := onB[nameA]; ok {
		t.Errorf("the local notebook has a job on %s", secondCluster)
	}
	for _, nb := range []*api.Notebook{nbA, nbB} {
		if code, body := proxyGet(t, c, nb.ID, "api/status"); code != http.StatusOK {
			t.Errorf("notebook %s (%s) through the proxy: %d %s", nb.ID, nb.Cluster, code, body)
		}
	}
	node, idx := jobGPUsOn(t, secondCluster, nbB.SlurmJobID)
	if node != "c2-gpu01" || len(idx) != 1 {
		t.Fatalf("scontrol -M %s shows job %s on %q with GPUs %v, want one GPU on c2-gpu01", secondCluster, nbB.SlurmJobID, node, idx)
	}
	k := openKernel(t, c, nbB.ID)
	if got := strings.TrimSpace(k.exec(`import os; print(os.environ.get("CUDA_VISIBLE_DEVICES"))`)); got != strings.Join(idx, ",") {
		t.Errorf("CUDA_VISIBLE_DEVICES in the kernel of %s's notebook = %q, Slurm allocated %v", secondPool, got, idx)
	}

	if _, err := c.KillNotebook(ctxT(t, 30*time.Second), nbB.ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, nbB.ID, api.StateTerminated, 30*time.Second)
	if id, ok := jobsOn(t, secondCluster)[nameB]; ok {
		t.Errorf("job %s still in %s's queue after the kill", id, secondCluster)
	}
	if jobsOn(t, "")[nameA] != nbA.SlurmJobID {
		t.Errorf("the local job %s went with the kill of %s's notebook", nbA.SlurmJobID, secondPool)
	}
	if nb, err := c.Notebook(ctxT(t, 10*time.Second), nbA.ID); err != nil || nb.State != api.StateRunning {
		t.Errorf("the local notebook after the other's kill: %+v %v", nb, err)
	}
	if _, err := c.KillNotebook(ctxT(t, 30*time.Second), nbA.ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, nbA.ID, api.StateTerminated, 30*time.Second)
	if id, ok := jobsOn(t, "")[nameA]; ok {
		t.Errorf("local job %s still queued after the kill", id)
	}
}

// clusterStale reads whether the bridge's view of each cluster is stale.
func clusterStale(t *testing.T, c *client.Client) map[string]bool {
	t.Helper()
	m, err := c.MasterInfo(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, cs := range m.SlurmClusters {
		out[cs.Name] = cs.Stale
	}
	return out
}

// TestSecondClusterOutage: the second cluster's slurmctld stopped for
// 30 s: its notebook keeps its state and its pool shows stale; the first
// cluster's notebook and pools are untouched.
func TestSecondClusterOutage(t *testing.T) {
	c := twoClusterSite(t)
	nbB := start(t, c, map[string]any{"resources": map[string]any{"resource_pool": secondPool, "slots": 1}})
	nbA := start(t, c, cpuNotebook())
	waitState(t, c, nbB.ID, api.StateRunning, startWithin)
	waitState(t, c, nbA.ID, api.StateRunning, startWithin)
	ctld := filepath.Join(repo, "devcluster", "cluster2.sh")
	run(t, "bash", ctld, "stop-ctld")
	restarted := false
	restart := func() {
		if !restarted {
			restarted = true
			run(t, "bash", ctld, "start-ctld")
		}
	}
	t.Cleanup(restart)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		st := clusterStale(t, c)
		if st[secondCluster] {
			if st[localCluster] {
				t.Fatalf("the local cluster's view went stale with %s's controller: %v", secondCluster, st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /api/v1/master shows %s not stale 15 s into its outage: %v", secondCluster, st)
		}
	}
	pools, err := c.ResourcePools(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pools {
		if want := p.Name == secondPool; p.SlurmStale != want {
			t.Errorf("pool %s (cluster %s) during %s's outage: stale %v, want %v", p.Name, p.Cluster, secondCluster, p.SlurmStale, want)
		}
	}
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(time.Second) {
		for _, id := range []string{nbA.ID, nbB.ID} {
			nb, err := c.Notebook(ctxT(t, 10*time.Second), id)
			if err != nil {
				t.Fatal(err)
			}
			if nb.State != api.StateRunning {
				t.Fatalf("notebook %s (%s) is %s (%s) during %s's outage", id, nb.Cluster, nb.State, nb.Reason, secondCluster)
			}
		}
		if st := clusterStale(t, c); st[localCluster] {
			t.Fatalf("the local cluster's view went stale during %s's outage: %v", secondCluster, st)
		}
	}
	if code, body := proxyGet(t, c, nbA.ID, "api/status"); code != http.StatusOK {
		t.Errorf("the local notebook during the outage: %d %s", code, body)
	}
	restart()
	for deadline := time.Now().Add(45 * time.Second); clusterStale(t, c)[secondCluster]; time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("%s still stale 45 s after its controller came back", secondCluster)
		}
	}
	if nb, err := c.Notebook(ctxT(t, 10*time.Second), nbB.ID); err != nil || nb.State != api.StateRunning {
		t.Errorf("%s's notebook after the outage: %+v %v", secondPool, nb, err)
	}
	if code, body := proxyGet(t, c, nbB.ID, "api/status"); code != http.StatusOK {
		t.Errorf("%s's notebook after the outage: %d %s", secondPool, code, body)
	}
}
