package bridge

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/slurm"
)

// twoClusters is a harness whose site has a second cluster, devcluster2,
// with pool gpu2 on it; b is that cluster's Slurm (h.slurm is the local
// one's). Both clusters hand out job id 101: ids repeat across clusters.
func twoClusters(t *testing.T) (*harness, *fakeSlurm) {
	t.Helper()
	b := newClusterSlurm()
	h := newHarnessSetup(t, "clusters:\n  - {name: devcluster2, slurm_interface: cli}\n",
		"  - name: gpu2\n    cluster: devcluster2\n    partition: gpu2\n    gpu: {gres: gpu, type: a100}\n",
		func(s *Server) { s.SetClusterSlurm("devcluster2", b) })
	return h, b
}

func newClusterSlurm() *fakeSlurm {
	return &fakeSlurm{jobs: map[string]slurm.Job{}, limits: map[string]slurm.Limit{},
		submit: func(slurm.SubmitRequest) (string, error) { return "101", nil },
		nodes:  []slurm.Node{{Name: "c2-gpu01", Partitions: []string{"gpu2"}, Default: true, DefaultPartition: "gpu2", Addr: "10.0.2.1", GPUs: 2, GPUType: "a100"}}}
}

// startIn starts a notebook in a pool.
func (h *harness) startIn(pool string) api.Notebook {
	return h.start(map[string]any{"resources": map[string]any{"resource_pool": pool, "slots": 1}})
}

// TestClusterRouting: a notebook of cluster B's pool is submitted to B,
// queried on B and killed on B, never on A; one on A at the same time,
// with the same job id, stays A's.
func TestClusterRouting(t *testing.T) {
	h, b := twoClusters(t)
	var sawB slurm.SubmitRequest
	b.submit = func(r slurm.SubmitRequest) (string, error) { sawB = r; return "101", nil }
	nbB := h.startIn("gpu2")
	if sawB.Script == "" || nbB.SlurmJobID != "101" || nbB.Cluster != "devcluster2" {
		t.Fatalf("B's notebook %+v, submit %+v", nbB, sawB)
	}
	if got, _ := h.srv.store.GetTask(context.Background(), nbB.ID); got.Cluster != "devcluster2" {
		t.Fatalf("stored cluster %q", got.Cluster)
	}
	nbA := h.startIn("gpu")
	if nbA.Cluster != "local" {
		t.Fatalf("A's notebook %+v", nbA)
	}
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "PENDING", Reason: "Resources"}
	b.jobs["101"] = slurm.Job{ID: "101", State: "RUNNING", Nodes: []string{"c2-gpu01"}}
	aq, bq := h.slurm.queries, b.queries
	h.srv.reconcile(context.Background())
	if h.slurm.queries != aq+1 || b.queries != bq+1 {
		t.Fatalf("queries per tick: A %d, B %d; want one each", h.slurm.queries-aq, b.queries-bq)
	}
	if n := h.get(nbB.ID); n.State != api.StateStarting || n.Node != "c2-gpu01" {
		t.Fatalf("B's notebook after B said RUNNING: %+v", n)
	}
	if n := h.get(nbA.ID); n.State != api.StateQueued {
		t.Fatalf("A's notebook after A said PENDING: %+v", n)
	}
	h.do("POST", "/api/v1/notebooks/"+nbB.ID+"/kill", nil, nil, 200)
	if len(b.cancels) != 1 || b.cancels[0] != "101" || len(h.slurm.cancels) != 0 {
		t.Fatalf("kill of B's notebook: B cancelled %v, A cancelled %v", b.cancels, h.slurm.cancels)
	}
	h.srv.reconcile(context.Background())
	if n := h.get(nbB.ID); n.State != api.StateTerminated {
		t.Fatalf("B's notebook after its job went: %+v", n)
	}
	if n := h.get(nbA.ID); n.State != api.StateQueued {
		t.Fatalf("A's notebook after B's kill: %+v", n)
	}
	var agents api.GetAgentsResponse
	h.do("GET", "/api/v1/agents", nil, &agents, 200)
	if !slices.ContainsFunc(agents.Agents, func(a api.Agent) bool { return a.ID == "c2-gpu01" }) {
		t.Errorf("agents %+v lack c2-gpu01", agents.Agents)
	}
	for _, a := range agents.Agents {
		if want := a.ID == "c2-gpu01"; want != slices.Equal(a.ResourcePools, []string{"gpu2"}) {
			t.Errorf("agent %s in pools %v", a.ID, a.ResourcePools)
		}
	}
	var tasks api.GetTasksResponse
	h.do("GET", "/api/v1/tasks", nil, &tasks, 200)
	if sum := tasks.AllocationIDToSummary[api.AllocationID(nbA.ID)]; sum.Cluster != "local" {
		t.Fatalf("A's task summary %+v", sum)
	}
}

// TestClusterStale: B's controller does not answer: B's notebook keeps
// its state and only B's pool and view go stale; A's notebook reconciles
// as normal.
func TestClusterStale(t *testing.T) {
	h, b := twoClusters(t)
	nbB := h.startIn("gpu2")
	nbA := h.startIn("gpu")
	b.jobs["101"] = slurm.Job{ID: "101", State: "RUNNING", Nodes: []string{"c2-gpu01"}}
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "PENDING", Reason: "Priority"}
	h.srv.reconcile(context.Background())
	b.queryErr = errors.New("slurm_load_jobs error: Unable to contact slurm controller (connect failure)")
	b.jobs["101"] = slurm.Job{ID: "101", State: "CANCELLED"}
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "RUNNING", Nodes: []string{"r1-gpu01-ib"}}
	h.srv.reconcile(context.Background())
	if n := h.get(nbB.ID); n.State != api.StateStarting {
		t.Fatalf("B's notebook while B does not answer: %+v", n)
	}
	if n := h.get(nbA.ID); n.State != api.StateStarting || n.Node != "r1-gpu01-ib" {
		t.Fatalf("A's notebook while B does not answer: %+v", n)
	}
	var pools api.GetResourcePoolsResponse
	h.do("GET", "/api/v1/resource-pools", nil, &pools, 200)
	for _, p := range pools.ResourcePools {
		if want := p.Name == "gpu2"; p.SlurmStale != want {
			t.Errorf("pool %s (cluster %s): stale %v, want %v", p.Name, p.Cluster, p.SlurmStale, want)
		}
		if p.Name == "gpu2" && (p.Cluster != "devcluster2" || p.GPUsTotal != 2) {
			t.Errorf("pool gpu2: %+v", p)
		}
	}
	var m api.Master
	h.do("GET", "/api/v1/master", nil, &m, 200)
	if len(m.SlurmClusters) != 2 || m.SlurmClusters[0].Name != "local" || m.SlurmClusters[0].Stale ||
		m.SlurmClusters[1].Name != "devcluster2" || !m.SlurmClusters[1].Stale || !m.Slurm.Stale {
		t.Fatalf("master's view of the clusters: %+v %+v", m.Slurm, m.SlurmClusters)
	}
	snap, err := h.srv.MetricsSnapshot(context.Background())
	if err != nil || len(snap.Slurm) != 2 || snap.Slurm[0].Stale || !snap.Slurm[1].Stale || snap.Slurm[1].Cluster != "devcluster2" {
		t.Fatalf("metrics' view: %+v %v", snap.Slurm, err)
	}
}

// TestClusterRestart: a new bridge over the same store asks each task's
// own cluster about it.
func TestClusterRestart(t *testing.T) {
	h, b := twoClusters(t)
	nbB := h.startIn("gpu2")
	a2, b2 := newClusterSlurm(), newClusterSlurm()
	a2.nodes = nil // the default nodes: partitions gpu and cpu
	b2.jobs["101"] = slurm.Job{ID: "101", State: "RUNNING", Nodes: []string{"c2-gpu01"}}
	s2 := New(h.srv.cfg, h.srv.store, a2, h.srv.log)
	s2.lookupPosix = testAccounts
	s2.SetClusterSlurm("devcluster2", b2)
	if err := s2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a2.queries != 0 || b2.queries != 1 {
		t.Fatalf("queries at start: A %d, B %d", a2.queries, b2.queries)
	}
	got, err := s2.store.GetTask(context.Background(), nbB.ID)
	if err != nil || got.Cluster != "devcluster2" || got.State != api.StateStarting {
		t.Fatalf("B's task after a restart: %+v %v", got, err)
	}
	if err := s2.kill(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b2.cancels, []string{"101"}) || len(a2.cancels) != 0 || len(b.cancels) != 0 {
		t.Fatalf("cancels after a restart: B %v, A %v", b2.cancels, a2.cancels)
	}
}

// TestOneClusterShowsNone: a site of one cluster shows no cluster in
// the API.
func TestOneClusterShowsNone(t *testing.T) {
	h := newHarness(t)
	nb := h.start(nil)
	var m api.Master
	h.do("GET", "/api/v1/master", nil, &m, 200)
	if nb.Cluster != "" || m.SlurmClusters != nil {
		t.Fatalf("notebook %+v, clusters %+v", nb, m.SlurmClusters)
	}
}

// TestClusterOrphans: a job is its task's only on the task's cluster; the
// same name and id on another cluster is an orphan there.
func TestClusterOrphans(t *testing.T) {
	h, b := twoClusters(t)
	nbB := h.startIn("gpu2")
	name := slurm.JobName("notebook", nbB.ID)
	b.jobs["101"] = slurm.Job{ID: "101", State: "RUNNING", Name: name}
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "RUNNING", Name: name}
	orphans, err := h.srv.Orphans(context.Background())
	if err != nil || len(orphans) != 1 || orphans[0].Cluster != "" {
		t.Fatalf("orphans %+v %v", orphans, err)
	}
	if err := h.srv.CancelJob(context.Background(), "devcluster2", "7"); err != nil || !slices.Equal(b.cancels, []string{"7"}) {
		t.Fatalf("cancel on B: %v %v", err, b.cancels)
	}
}
