package benchbridge

import (
	"context"
	"errors"

	"github.com/det-slurm/bridge/slurm"
)

// emptyCluster answers the bridge's Slurm commands as a cluster with no
// jobs and no nodes would; sbatch fails. Going through slurm.CLI keeps the
// benchmark bridge's view of Slurm the real one.
type emptyCluster struct{}

var _ slurm.Runner = emptyCluster{}

func (emptyCluster) Run(_ context.Context, c slurm.Cmd) ([]byte, error) {
	if c.Name == "sbatch" {
		return nil, &slurm.CommandError{Cmd: c.String(), Stderr: "the benchmark bridge submits no jobs", Err: errors.New("exit status 1")}
	}
	return nil, nil
}

func noSlurm() *slurm.CLI { return &slurm.CLI{Runner: emptyCluster{}} }
