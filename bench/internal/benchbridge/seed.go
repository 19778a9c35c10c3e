package benchbridge

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/det-slurm/bridge/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
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
