package bridge

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
)

func TestMetricsAdminOnly(t *testing.T) {
	h := newHarness(t)
	if w := h.req("GET", "/metrics", nil, nil); w.Code != http.StatusForbidden {
		t.Errorf("user determined (not an admin): %d", w.Code)
	}
	var lr api.LoginResponse
	h.do("POST", "/api/v1/auth/login", api.LoginRequest{Username: "admin"}, &lr, 200)
	h.token = lr.Token
	w := h.req("GET", "/metrics", nil, nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "det_bridge_gpus_allocated{pool=\"gpu\"} 0") {
		t.Fatalf("admin: %d %.200s", w.Code, w.Body)
	}
	if _, err := h.srv.store.CreateUser(context.Background(), "bob", store.Plain("pw"), false); err != nil {
		t.Fatal(err)
	}
	h.token = ""
	if w := h.req("GET", "/metrics", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("no token: %d", w.Code)
	}
	h.do("POST", "/api/v1/auth/login", api.LoginRequest{Username: "bob", Password: "pw"}, &lr, 200)
	h.token = lr.Token
	if w := h.req("GET", "/metrics", nil, nil); w.Code != http.StatusForbidden {
		t.Errorf("normal user: %d", w.Code)
	}
}

func TestMetricsLint(t *testing.T) {
	h := newHarness(t)
	h.start(nil)
	problems, err := testutil.GatherAndLint(h.srv.metrics.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// A running notebook's GPU counts as held idle once it has been idle for
// half its idle timeout, and not while its kernel is busy.
func TestMetricsGPUsHeldIdle(t *testing.T) {
	h := newHarness(t)
	nb := h.start(map[string]any{"idle_timeout": "10m", "resources": map[string]any{"slots": 1, "resource_pool": "gpu"}})
	h.running(nb.ID, "r1-gpu01-ib")
	ctx := context.Background()
	live, err := h.srv.store.LiveTasks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gpu := func(now time.Time) (alloc, idle int) {
		for _, p := range h.srv.poolGPUs(live, now) {
			if p.Pool == "gpu" {
				return p.Allocated, p.Idle
			}
		}
		t.Fatal("pool gpu missing")
		return
	}
	idleKernel := jobspec.JupyterReport{Kernels: []jobspec.KernelState{{ID: "k", ExecutionState: "idle"}}, ActivityAgeSeconds: 0}
	h.srv.reports.set(nb.ID, idleKernel)
	if a, i := gpu(time.Now()); a != 1 || i != 0 {
		t.Errorf("just started: allocated %d idle %d; want 1 0", a, i)
	}
	// Six minutes later (past half the timeout), with a fresh report of a
	// kernel last active six minutes ago.
	later := time.Now().Add(6 * time.Minute)
	idleKernel.ActivityAgeSeconds = 360
	h.srv.reports.m[nb.ID] = report{at: later, rep: idleKernel}
	if a, i := gpu(later); a != 1 || i != 1 {
		t.Errorf("idle past half the timeout: allocated %d idle %d; want 1 1", a, i)
	}
	busy := idleKernel
	busy.Kernels = []jobspec.KernelState{{ID: "k", ExecutionState: "busy"}}
	h.srv.reports.m[nb.ID] = report{at: later, rep: busy}
	if a, i := gpu(later); a != 1 || i != 0 {
		t.Errorf("busy kernel: allocated %d idle %d; want 1 0", a, i)
	}
	snap, err := h.srv.MetricsSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range snap.Tasks {
		if c.Kind == "notebook" && c.Pool == "gpu" && c.State == "RUNNING" && c.N == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("snapshot tasks %+v lack the running notebook", snap.Tasks)
	}
}

func TestMetricsIdleCancellation(t *testing.T) {
	h := newHarness(t)
	nb := h.start(map[string]any{"idle_timeout": "10m", "resources": map[string]any{"slots": 2, "resource_pool": "gpu"}})
	h.running(nb.ID, "r1-gpu01-ib")
	h.reapIdle(nb.ID, time.Now().Add(11*time.Minute))
	got := testutil.ToFloat64(h.srv.metrics.IdleGPUSeconds("gpu"))
	if got < 2*10*60 || got > 2*12*60 {
		t.Errorf("GPU-seconds given back = %.0f; want 2 GPUs x about 11 minutes", got)
	}
	if n := testutil.ToFloat64(h.srv.metrics.CancellationsBy("idle")); n != 1 {
		t.Errorf("idle cancellations = %v; want 1", n)
	}
}

// reapIdle runs the idle reaper at a time when task id's Jupyter, fresh
// then, reports no kernels and no activity.
func (h *harness) reapIdle(id string, at time.Time) {
	rep := jobspec.JupyterReport{Kernels: []jobspec.KernelState{}, ActivityAgeSeconds: -1}
	h.srv.reports.set(id, rep)
	h.srv.reports.m[id] = report{at: at, rep: rep}
	h.srv.reap(context.Background(), at)
}

func TestKillReason(t *testing.T) {
	task := &store.Task{Owner: "alice"}
	for _, c := range []struct {
		by   *store.User
		want string
	}{
		{&store.User{Username: "alice"}, cancelUser},
		{&store.User{Username: "alice", Admin: true}, cancelUser},
		{&store.User{Username: "root", Admin: true}, cancelAdmin},
	} {
		if got := killReason(c.by, task); got != c.want {
			t.Errorf("kill by %+v: %s; want %s", c.by, got, c.want)
		}
	}
}
