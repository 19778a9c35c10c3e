package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/det-slurm/bridge/slurm"
)

type fixedSource struct {
	s   Snapshot
	err error
}

func (f fixedSource) MetricsSnapshot(context.Context) (Snapshot, error) { return f.s, f.err }

func TestProxyCountsByClassAndWebsockets(t *testing.T) {
	m := New(nil)
	inside := make(chan struct{})
	release := make(chan struct{})
	h := m.Proxy(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ws":
			close(inside)
			<-release
			w.WriteHeader(http.StatusSwitchingProtocols)
		case "/missing":
			http.NotFound(w, r)
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	for _, p := range []string{"/a", "/b", "/missing"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	done := make(chan struct{})
	go func() {
		r := httptest.NewRequest("GET", "/ws", nil)
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Upgrade", "websocket")
		h.ServeHTTP(httptest.NewRecorder(), r)
		close(done)
	}()
	<-inside
	if n := testutil.ToFloat64(m.websockets); n != 1 {
		t.Errorf("open websockets while one is open = %v", n)
	}
	close(release)
	<-done
	if n := testutil.ToFloat64(m.websockets); n != 0 {
		t.Errorf("open websockets after it closed = %v", n)
	}
	for class, want := range map[string]float64{"2xx": 2, "4xx": 1, "1xx": 1} {
		if got := testutil.ToFloat64(m.proxyRequests.WithLabelValues(class)); got != want {
			t.Errorf("%s requests = %v; want %v", class, got, want)
		}
	}
	if n := testutil.CollectAndCount(m.proxyLatency); n != 1 {
		t.Errorf("latency histogram series = %d", n)
	}
}

func TestSnapshotGauges(t *testing.T) {
	src := fixedSource{s: Snapshot{
		Tasks:   []TaskCount{{Kind: "notebook", Pool: "gpu", State: "RUNNING", N: 2}},
		Pools:   []PoolGPUs{{Pool: "gpu", Allocated: 3, Idle: 1}},
		Tunnels: 2, Slurm: []SlurmView{{Cluster: "local", Stale: true, AgeSeconds: 12}, {Cluster: "devcluster2", AgeSeconds: 1}},
	}}
	m := New(src)
	want := `
# HELP det_bridge_gpus_idle GPUs held by notebooks and shells idle for more than half their idle timeout, by pool.
# TYPE det_bridge_gpus_idle gauge
det_bridge_gpus_idle{pool="gpu"} 1
# HELP det_bridge_slurm_view_stale 1 when the bridge's last look at a Slurm cluster failed, else 0, by cluster.
# TYPE det_bridge_slurm_view_stale gauge
det_bridge_slurm_view_stale{cluster="devcluster2"} 0
det_bridge_slurm_view_stale{cluster="local"} 1
# HELP det_bridge_tasks Notebooks and shells by kind, pool and state.
# TYPE det_bridge_tasks gauge
det_bridge_tasks{kind="notebook",pool="gpu",state="RUNNING"} 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "det_bridge_tasks", "det_bridge_gpus_idle", "det_bridge_slurm_view_stale"); err != nil {
		t.Error(err)
	}
	bad := New(fixedSource{err: errors.New("database locked")})
	if err := testutil.GatherAndCompare(bad.Registry(), strings.NewReader("# HELP det_bridge_snapshot_ok 1 when the bridge could read its state for this scrape, else 0.\n# TYPE det_bridge_snapshot_ok gauge\ndet_bridge_snapshot_ok 0\n"), "det_bridge_snapshot_ok"); err != nil {
		t.Error(err)
	}
}

type fakeRunner struct{ err error }

func (f fakeRunner) Run(context.Context, slurm.Cmd) ([]byte, error) { return nil, f.err }

func TestRunnerCountsCommands(t *testing.T) {
	m := New(nil)
	ctx := context.Background()
	_, _ = m.Runner(fakeRunner{}).Run(ctx, slurm.Cmd{Name: "/usr/bin/squeue"})
	_, _ = m.Runner(fakeRunner{err: errors.New("boom")}).Run(ctx, slurm.Cmd{Name: "sbatch"})
	if n := testutil.ToFloat64(m.slurmCommands.WithLabelValues("squeue")); n != 1 {
		t.Errorf("squeue runs = %v", n)
	}
	if n := testutil.ToFloat64(m.slurmErrors.WithLabelValues("sbatch")); n != 1 {
		t.Errorf("sbatch errors = %v", n)
	}
	m.IdleCancelled("gpu", 2, 90*time.Second)
	if n := testutil.ToFloat64(m.IdleGPUSeconds("gpu")); n != 180 {
		t.Errorf("GPU-seconds = %v; want 180", n)
	}
}
