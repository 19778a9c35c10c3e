package metrics

import (
	"context"
	"path/filepath"
	"time"

	"github.com/det-slurm/bridge/slurm"
)

// Runner wraps a Slurm command runner, timing and counting each command
// by its name.
func (m *Metrics) Runner(next slurm.Runner) slurm.Runner {
	return runner{next: next, m: m}
}

type runner struct {
	next slurm.Runner
	m    *Metrics
}

func (r runner) Run(ctx context.Context, c slurm.Cmd) ([]byte, error) {
	start := time.Now()
	out, err := r.next.Run(ctx, c)
	r.m.SlurmCommand(filepath.Base(c.Name), time.Since(start), err)
	return out, err
}
