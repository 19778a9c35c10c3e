package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/client"
)

const startWithin = 3 * time.Minute

// TestGPUNotebook: a notebook with one GPU runs, answers through the proxy,
// sees exactly the GPUs Slurm gave it and the shared folder.
func TestGPUNotebook(t *testing.T) {
	c := cluster(t)
	nb := start(t, c, map[string]any{"resources": map[string]any{"slots": 1}})
	if nb.State != api.StateQueued || nb.ResourcePool != "gpu" || nb.Slots != 1 {
		t.Fatalf("new notebook: %+v", nb)
	}
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)

	code, body := proxyGet(t, c, nb.ID, "api/status")
	if code != http.StatusOK {
		t.Fatalf("GET /proxy/%s/api/status with the bridge token: %d %s", nb.ID, code, body)
	}

	node, idx := jobGPUs(t, nb.SlurmJobID)
	if node == "" || len(idx) != 1 {
		t.Fatalf("scontrol shows no single GPU for job %s: node %q idx %v", nb.SlurmJobID, node, idx)
	}
	name := fmt.Sprintf("e2e-shared-%d.txt", time.Now().UnixNano())
	host := filepath.Join(state, "shared", name)
	if err := os.WriteFile(host, []byte("hello from the login node"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(host) })

	k := openKernel(t, c, nb.ID)
	got := strings.TrimSpace(k.exec(`import os; print(os.environ.get("CUDA_VISIBLE_DEVICES"))`))
	if got != strings.Join(idx, ",") {
		t.Errorf("CUDA_VISIBLE_DEVICES in the kernel = %q, Slurm allocated %v on %s", got, idx, node)
	}
	got = strings.TrimSpace(k.exec(fmt.Sprintf(`print(open("/run/determined/workdir/shared_fs/%s").read())`, name)))
	if got != "hello from the login node" {
		t.Errorf("shared file read from the kernel: %q", got)
	}
	if uid := strings.TrimSpace(k.exec(`import os; print(os.getuid())`)); uid == "0" {
		t.Errorf("the kernel runs as root")
	}
}

// TestCPUNotebook: slots=0 on pool cpu asks Slurm for no GPU at all.
func TestCPUNotebook(t *testing.T) {
	c := cluster(t)
	nb := start(t, c, map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu"}})
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	out := run(t, "scontrol", "show", "job", "-d", nb.SlurmJobID)
	if strings.Contains(out, "gres/gpu") || strings.Contains(out, "GRES=gpu") || strings.Contains(out, "gres:gpu") || !strings.Contains(out, "Partition=cpu") {
		t.Errorf("CPU notebook's job asks for GPUs or runs elsewhere:\n%s", out)
	}
	k := openKernel(t, c, nb.ID)
	if got := strings.TrimSpace(k.exec(`import os; print(os.environ.get("CUDA_VISIBLE_DEVICES"))`)); got != "None" {
		t.Errorf("CUDA_VISIBLE_DEVICES = %q in a CPU notebook, want unset", got)
	}
}

// TestTwoNotebooksNeverShareAGPU compares the GRES indices of two jobs.
func TestTwoNotebooksNeverShareAGPU(t *testing.T) {
	c := cluster(t)
	a := start(t, c, map[string]any{"resources": map[string]any{"slots": 2}})
	b := start(t, c, map[string]any{"resources": map[string]any{"slots": 3}})
	a = waitState(t, c, a.ID, api.StateRunning, startWithin)
	b = waitState(t, c, b.ID, api.StateRunning, startWithin)
	na, ia := jobGPUs(t, a.SlurmJobID)
	nb, ib := jobGPUs(t, b.SlurmJobID)
	if len(ia) != 2 || len(ib) != 3 {
		t.Fatalf("GPU counts: %s %v, %s %v", na, ia, nb, ib)
	}
	if na == nb {
		for _, i := range ia {
			if slices.Contains(ib, i) {
				t.Fatalf("jobs %s and %s share GPU %s on %s", a.SlurmJobID, b.SlurmJobID, i, na)
			}
		}
	}
}

// TestKill: the job leaves the queue within 5 s, the task is TERMINATED,
// and the proxy says so clearly.
func TestKill(t *testing.T) {
	c := cluster(t)
	nb := start(t, c, map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu"}})
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	began := time.Now()
	if _, err := c.KillNotebook(ctxT(t, 30*time.Second), nb.ID[:8]); err != nil {
		t.Fatalf("kill by prefix: %v", err)
	}
	for {
		out := run(t, "squeue", "-h", "-j", nb.SlurmJobID, "-t", "PENDING,RUNNING,COMPLETING,CONFIGURING,SUSPENDED")
		if strings.TrimSpace(out) == "" {
			break
		}
		if time.Since(began) > 5*time.Second {
			t.Fatalf("job %s still in squeue 5 s after kill: %s", nb.SlurmJobID, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	nb = waitState(t, c, nb.ID, api.StateTerminated, 10*time.Second)
	if nb.Reason != "killed by user" {
		t.Errorf("reason %q, want killed by user", nb.Reason)
	}
	code, body := proxyGet(t, c, nb.ID, "api/status")
	if code != http.StatusGone || !strings.Contains(body, "terminated") || strings.Contains(body, "dial tcp") {
		t.Errorf("proxy after kill: %d %s", code, body)
	}
}

// TestJupyterPortNeedsToken: the compute node's port refuses a request
// without the notebook's token.
func TestJupyterPortNeedsToken(t *testing.T) {
	c := cluster(t)
	nb := start(t, c, directNotebook())
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	st, err := store.Open(filepath.Join(state, "bridge", "bridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	task, err := st.GetTask(context.Background(), nb.ID)
	if err != nil || task.Port == 0 {
		t.Fatalf("task row: %+v %v", task, err)
	}
	for _, p := range []string{"api/status", "api/kernels", "api/contents"} {
		url := fmt.Sprintf("http://%s:%d/proxy/%s/%s", task.Host, task.Port, nb.ID, p)
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s without token: %d, want 403", url, resp.StatusCode)
		}
	}
}

// jobCount counts this cluster's bridge jobs in squeue and alice's job
// folders, to prove a refused submit leaves nothing behind.
func leftovers(t *testing.T, c *client.Client) (int, int, int) {
	t.Helper()
	q := run(t, "squeue", "-h", "-o", "%j")
	jobs := strings.Count(q, "det-notebook-")
	dirs, _ := os.ReadDir(filepath.Join(state, "jobs", "alice"))
	nbs, err := c.Notebooks(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return jobs, len(dirs), len(nbs)
}

// TestBadInput: each refused submit names what is wrong and leaves nothing
// in Slurm, the store or the job folder.
func TestBadInput(t *testing.T) {
	c := cluster(t)
	cases := []struct {
		name string
		cfg  map[string]any
		want []string
	}{
		{"too many slots", map[string]any{"resources": map[string]any{"slots": 9}}, []string{"resources.slots", "largest node", "has 4"}},
		{"unknown field", map[string]any{"resources": map[string]any{"slot": 1}}, []string{"resources.slot", "did you mean resources.slots"}},
		{"unknown pool", map[string]any{"resources": map[string]any{"resource_pool": "nope"}}, []string{"resources.resource_pool", `"nope"`}},
		{"missing image", map[string]any{"environment": map[string]any{"image": "/no/such/image.sif"}}, []string{"environment.image", "/no/such/image.sif"}},
		{"GPUs on a CPU pool", map[string]any{"resources": map[string]any{"slots": 1, "resource_pool": "cpu"}}, []string{"resources.slots", "no GPUs"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j0, d0, n0 := leftovers(t, c)
			_, err := c.StartNotebook(ctxT(t, 30*time.Second), tc.cfg, nil)
			var ae *client.APIError
			if !errors.As(err, &ae) || ae.Status < 400 || ae.Status >= 500 {
				t.Fatalf("want a 4xx answer, got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(ae.Message, w) {
					t.Errorf("message %q does not name %q", ae.Message, w)
				}
			}
			// Jobs of earlier tests may still be leaving the queue: only new
			// ones count.
			if j, d, n := leftovers(t, c); j > j0 || d != d0 || n != n0 {
				t.Errorf("left behind: jobs %d->%d, job folders %d->%d, notebooks %d->%d", j0, j, d0, d, n0, n)
			}
		})
	}
}

// TestCLI drives bin/det as a user would: start, list --json, logs, kill
// by prefix.
func TestCLI(t *testing.T) {
	c := cluster(t)
	det := filepath.Join(repo, "bin", "det")
	out := run(t, det, "notebook", "start", "--no-browser", "--config", "resources.slots=0", "--config", "resources.resource_pool=cpu")
	if !strings.Contains(out, "Scheduling notebook JupyterLab (") || !strings.Contains(out, "Jupyter Notebook is running at: "+master+"/proxy/") {
		t.Fatalf("det notebook start printed:\n%s", out)
	}
	i := strings.Index(out, "(id: ")
	id := out[i+5 : i+5+36]
	t.Cleanup(func() { _, _ = c.KillNotebook(context.Background(), id) })

	var list []api.Notebook
	jsonOut(t, &list, "notebook", "list", "--json")
	found := false
	for _, n := range list {
		if n.ID == id && n.State == api.StateRunning && n.ResourcePool == "cpu" {
			found = true
		}
	}
	if !found {
		t.Fatalf("det notebook list --json lacks RUNNING %s: %+v", id, list)
	}
	table := run(t, det, "notebook", "list")
	if !strings.Contains(table, id) || !strings.Contains(table, "Resource Pool") {
		t.Errorf("det notebook list:\n%s", table)
	}
	kill := run(t, det, "notebook", "kill", id[:8])
	if !strings.Contains(kill, id) {
		t.Errorf("det notebook kill: %s", kill)
	}
	logs := run(t, det, "notebook", "logs", "-f", id[:8])
	for _, w := range []string{"submitted as Slurm job", "Jupyter is running on", "terminated: killed by user"} {
		if !strings.Contains(logs, w) {
			t.Errorf("logs lack %q:\n%s", w, logs)
		}
	}
}
