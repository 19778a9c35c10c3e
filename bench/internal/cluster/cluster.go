// Package cluster is what the benchmarks do on the local Slurm cluster:
// hold the lock everyone who uses it shares, find a notebook's Jupyter,
// measure the floor (sbatch of a plain Jupyter job) and count the
// controller's RPCs (sdiag).
package cluster

import (
	"os"
	"path/filepath"
)

// Env is the environment Slurm's commands need on the dev cluster.
func Env(repo string) []string {
	state := filepath.Join(repo, ".devcluster")
	return append(os.Environ(), "SLURM_CONF="+filepath.Join(state, "slurm.conf"),
		"PATH="+filepath.Join(state, "bin")+":"+os.Getenv("PATH"))
}
