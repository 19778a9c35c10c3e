package launcher

import (
	"encoding/json"
	"io"
	"path/filepath"
	"time"

	"github.com/det-slurm/bridge/jobspec"
)

// RunResolve is `det-launcher resolve PATH...`: it prints, as JSON, where
// each path leads once its links are followed (api.ResolvedPath), as the
// user who runs it sees it, and returns the exit status (0 whenever the
// answer was printed). The bridge runs it as the job's user to check bind
// mounts, so it never follows a user's links as root.
func RunResolve(w io.Writer, paths []string) int {
	done := make(chan []jobspec.ResolvedPath, 1)
	go func() { done <- resolve(paths) }()
	var out []jobspec.ResolvedPath
	select {
	case out = <-done:
	case <-time.After(jobspec.ImageCheckTimeout):
		out = make([]jobspec.ResolvedPath, len(paths))
		for i, p := range paths {
			out[i] = jobspec.ResolvedPath{Path: p, Problem: "looking it up took longer than " + jobspec.ImageCheckTimeout.String()}
		}
	}
	if err := json.NewEncoder(w).Encode(out); err != nil {
		return 1
	}
	return 0
}

func resolve(paths []string) []jobspec.ResolvedPath {
	out := make([]jobspec.ResolvedPath, len(paths))
	for i, p := range paths {
		out[i].Path = p
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			out[i].Problem = "does not exist or may not be read by the job's user"
			continue
		}
		out[i].Real = real
	}
	return out
}
