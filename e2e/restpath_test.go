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

// TestRestNotebookPath: the whole notebook path on a cluster the bridge
// reaches through slurmrestd (the dev cluster's second one): start, list,
// logs, idle cancel, kill, and a restart of the bridge in between, as on a
// cluster reached through the Slurm commands.
func TestRestNotebookPath(t *testing.T) {
	c := twoClusterSite(t)
	cfg, err := siteconfig.Load(filepath.Join(repo, "site-configs", "devcluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if iface, _ := cfg.InterfaceOf(secondCluster); iface != siteconfig.SlurmInterfaceREST {
		t.Skipf("the dev site config reaches %s through %s, not slurmrestd", secondCluster, iface)
	}
	onB := map[string]any{"resources": map[string]any{"resource_pool": secondPool, "slots": 1}}

	// Idle cancel.
	idle := start(t, c, map[string]any{"resources": onB["resources"], "idle_timeout": "10s"})
	waitState(t, c, idle.ID, api.StateRunning, startWithin)
	waitCancelled(t, c, idle.ID, time.Now(), 10*time.Second+idleTimeout+30*time.Second)
	waitState(t, c, idle.ID, api.StateTerminated, 30*time.Second)

	// Start, list, logs.
	nb := start(t, c, onB)
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	if nb.Cluster != secondCluster || nb.SlurmJobID == "" {
		t.Fatalf("the notebook: cluster %q, job %q", nb.Cluster, nb.SlurmJobID)
	}
	name := slurm.JobName("notebook", nb.ID)
	if jobsOn(t, secondCluster)[name] != nb.SlurmJobID {
		t.Fatalf("job %s is not in %s's queue: %v", nb.SlurmJobID, secondCluster, jobsOn(t, secondCluster))
	}
	list, err := c.List(ctxT(t, 10*time.Second), client.NotebookKind)
	if err != nil || !slices.ContainsFunc(list, func(n api.Notebook) bool { return n.ID == nb.ID && n.State == api.StateRunning }) {
		t.Errorf("the list lacks the running notebook %s: %v", nb.ID, err)
	}
	if logs := logsOf(c, nb.ID); !strings.Contains(logs, "Jupyter is running on c2-gpu01") || !strings.Contains(logs, "[job]") {
		t.Errorf("the notebook's logs lack the bridge's and the job's lines:\n%s", logs)
	}

	// A restart of the bridge: the notebook stays, reached as before.
	restartBridge(t)
	c = cluster(t)
	if got, err := c.Notebook(ctxT(t, 10*time.Second), nb.ID); err != nil || got.State != api.StateRunning {
		t.Fatalf("after the bridge's restart: %+v %v", got, err)
	}
	if code, body := proxyGet(t, c, nb.ID, "api/status"); code != http.StatusOK {
		t.Errorf("through the proxy after the restart: %d %s", code, body)
	}

	// Kill: the job leaves the second cluster's queue.
	if _, err := c.KillNotebook(ctxT(t, 30*time.Second), nb.ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, nb.ID, api.StateTerminated, 30*time.Second)
	if id, ok := jobsOn(t, secondCluster)[name]; ok {
		t.Errorf("job %s still in %s's queue after the kill", id, secondCluster)
	}
}
