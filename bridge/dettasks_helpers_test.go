package bridge

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/slurm"
)

// numberedJobs makes the harness's sbatch hand out job ids 101, 102, ...
func (h *harness) numberedJobs() {
	next := 100
	h.slurm.submit = func(slurm.SubmitRequest) (string, error) { next++; return strconv.Itoa(next), nil }
}

// running takes task id through Slurm's start on node (STARTING) and
// Jupyter's ready callback (RUNNING).
func (h *harness) running(id, node string) {
	h.t.Helper()
	ctx := context.Background()
	task, err := h.srv.store.GetTask(ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	h.slurm.jobs[task.JobID] = slurm.Job{ID: task.JobID, State: "RUNNING", Nodes: []string{node}, TimeLeft: -1}
	h.srv.reconcile(ctx)
	h.srv.prove = func(context.Context, string, int, string, string) error { return nil }
	w := h.req("POST", "/api/v1/tasks/"+id+"/ready", jobspec.ReadyRequest{Node: node, Port: 4000}, map[string]string{jobspec.SecretHeader: task.Secret})
	if w.Code != http.StatusNoContent {
		h.t.Fatalf("ready callback of %s: %d %s", id, w.Code, w.Body)
	}
}

// useNodes makes the bridge's cached sinfo view of the local cluster
// these nodes.
func (h *harness) useNodes(nodes []slurm.Node) {
	h.useClusterNodes("", nodes)
}

// useClusterNodes makes the bridge's cached sinfo view of a cluster these
// nodes.
func (h *harness) useClusterNodes(cluster string, nodes []slurm.Node) {
	c := &h.srv.nodes
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nodes == nil {
		c.nodes, c.at = map[string][]slurm.Node{}, map[string]time.Time{}
	}
	c.nodes[cluster], c.at[cluster] = nodes, time.Now()
}

// getJSON GETs path (status 200 expected) and decodes the body generically.
func (h *harness) getJSON(path string) map[string]any {
	h.t.Helper()
	w := h.req("GET", path, nil, nil)
	if w.Code != http.StatusOK {
		h.t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	noNulls(h.t, path, m)
	return m
}

// noNulls fails on any null in a decoded JSON value: Determined's
// client reads lists and maps without checking for null.
func noNulls(t testing.TB, where string, v any) {
	t.Helper()
	switch v := v.(type) {
	case nil:
		t.Errorf("%s is null", where)
	case map[string]any:
		for k, x := range v {
			noNulls(t, where+"."+k, x)
		}
	case []any:
		for i, x := range v {
			noNulls(t, where+"["+strconv.Itoa(i)+"]", x)
		}
	}
}

// fieldKinds checks that object m has each field with the JSON kind
// given: "string", "number", "bool", "object" or "array".
func fieldKinds(t testing.TB, what string, m map[string]any, kinds map[string]string) {
	t.Helper()
	for k, want := range kinds {
		v, ok := m[k]
		if !ok {
			t.Errorf("%s lacks required field %q", what, k)
			continue
		}
		got := "?"
		switch v.(type) {
		case string:
			got = "string"
		case float64:
			got = "number"
		case bool:
			got = "bool"
		case map[string]any:
			got = "object"
		case []any:
			got = "array"
		}
		if got != want {
			t.Errorf("%s.%s is a %s (%v), want a %s", what, k, got, v, want)
		}
	}
}

// writeOutput writes a task's output.log as Slurm would: owned by the
// job folder's owner.
func (h *harness) writeOutput(id, data string) {
	h.t.Helper()
	task, err := h.srv.store.GetTask(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	path := filepath.Join(task.JobDir, "output.log")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		h.t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(task.JobDir, &st); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Chown(path, int(st.Uid), int(st.Gid)); err != nil {
		h.t.Fatal(err)
	}
}
