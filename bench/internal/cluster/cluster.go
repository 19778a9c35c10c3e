// Package cluster is what the benchmarks do on the local Slurm cluster:
// hold the lock everyone who uses it shares, find a notebook's Jupyter,
// and measure the floor (sbatch of a plain Jupyter job).
package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Env is the environment Slurm's commands need on the dev cluster.
func Env(repo string) []string {
	state := filepath.Join(repo, ".devcluster")
	return append(os.Environ(), "SLURM_CONF="+filepath.Join(state, "slurm.conf"),
		"PATH="+filepath.Join(state, "bin")+":"+os.Getenv("PATH"))
}

// Lock takes the exclusive flock on path (as flock(1) does), waiting up to
// wait, and returns the function that releases it.
func Lock(ctx context.Context, path string, wait time.Duration, waiting func()) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	deadline := time.Now().Add(wait)
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !told && waiting != nil {
			waiting()
			told = true
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("the cluster lock %s is still held by someone else after %s", path, wait)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
