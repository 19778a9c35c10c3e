package serve

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/slurm"
)

// seed stores n ended notebooks of user determined, as a busy site's
// history would hold them.
func seed(ctx context.Context, st *store.Store, n int, dir string) error {
	start := time.Now().Add(-time.Duration(n) * time.Minute)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		t := &store.Task{
			ID: id, Type: "notebook", Owner: "determined", PosixUser: "alice",
			Description: fmt.Sprintf("JupyterLab (bench-%d)", i), State: api.StateTerminated, Reason: "killed by user",
			Pool: "cpu", Slots: 0, Config: `{"resources":{"slots":0,"resource_pool":"cpu"}}`,
			JobID: fmt.Sprint(100000 + i), JupyterToken: "t", Secret: "s",
			JobDir: filepath.Join(dir, "jobs", id), RegisteredTime: start.Add(time.Duration(i) * time.Minute),
		}
		if err := st.InsertTask(ctx, t); err != nil {
			return fmt.Errorf("seed task %d: %w", i, err)
		}
	}
	return nil
}

// TunnelTaskID is the id of the i-th seeded tunnel-mode notebook; its
// proxy route is /proxy/<TunnelTaskID(i)>/.
func TunnelTaskID(i int) string { return fmt.Sprintf("7e7e7e7e-0000-4000-8000-%012x", i) }

// TunnelSecret is the secret of the i-th seeded tunnel-mode notebook,
// which its job's end presents to open the tunnel.
func TunnelSecret(base string, i int) string { return fmt.Sprintf("%s-%d", base, i) }

// tunnelJobID is the Slurm job of the i-th seeded tunnel-mode notebook.
func tunnelJobID(i int) string { return fmt.Sprint(300000 + i) }

// seedTunnels stores n running notebooks of user determined in tunnel
// mode, each with its own secret and job, and returns their jobs by id
// with the names the bridge gives them, for the fake Slurm to run.
func seedTunnels(ctx context.Context, st *store.Store, n int, secret, dir string) (map[string]string, error) {
	jobs := map[string]string{}
	for i := 0; i < n; i++ {
		id := TunnelTaskID(i)
		t := &store.Task{
			ID: id, Type: "notebook", Owner: "determined", PosixUser: "alice",
			Description: fmt.Sprintf("JupyterLab (bench-tunnel-%d)", i), State: api.StateRunning,
			Pool: "cpu", Slots: 0, Config: `{"resources":{"slots":0,"resource_pool":"cpu"}}`,
			JobID: tunnelJobID(i), Node: NodeName, JupyterToken: JupyterToken, Secret: TunnelSecret(secret, i),
			ProxyMode: jobspec.ProxyModeTunnel, JobDir: filepath.Join(dir, "jobs", id), RegisteredTime: time.Now(),
		}
		if err := st.InsertTask(ctx, t); err != nil {
			return nil, fmt.Errorf("seed tunnel task %d: %w", i, err)
		}
		jobs[t.JobID] = slurm.JobName(t.Type, id)
	}
	return jobs, nil
}
