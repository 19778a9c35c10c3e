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

// SecondEnv is the environment that points Slurm's commands at the dev
// cluster's second cluster (devcluster/cluster2.sh), and whether it has
// one.
func SecondEnv(repo string) ([]string, bool) {
	state := filepath.Join(repo, ".devcluster")
	conf := filepath.Join(state, "c2", "slurm.conf")
	if _, err := os.Stat(conf); err != nil {
		return nil, false
	}
	return append(os.Environ(), "SLURM_CONF="+conf, "PATH="+filepath.Join(state, "bin")+":"+os.Getenv("PATH")), true
}
