package cluster

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/det-slurm/bridge/bench/internal/proc"
)

// Floor measures the least time a notebook can take on this cluster: an
// sbatch, as the notebook's user and on its partition, of a script that
// runs the same image's jupyter-lab through the same apptainer, timed
// until Jupyter answers /api/status.
type Floor struct {
	Repo      string
	User      string // POSIX user the job runs as
	Partition string
	Image     string // the SIF the bridge's notebooks use
	Apptainer string
	Dir       string // a folder the job may use (made and chowned here)
}

const floorScript = `#!/bin/sh
exec %s exec --bind %s:/run/determined/workdir --pwd /run/determined/workdir %s \
  jupyter-lab --no-browser --ip=127.0.0.1 --port=%s --ServerApp.token=%s \
  --ServerApp.base_url=/floor/ --ServerApp.root_dir=/run/determined/workdir --ServerApp.open_browser=False
`

// Run submits the job, waits for Jupyter (at most within) and cancels the
// job. It returns the time from starting sbatch to the first 200.
func (f *Floor) Run(ctx context.Context, within time.Duration) (time.Duration, error) {
	u, err := user.Lookup(f.User)
	if err != nil {
		return 0, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	dir, err := os.MkdirTemp(f.Dir, "floor-")
	if err != nil {
		return 0, err
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		return 0, err
	}
	addr, err := proc.FreePort()
	if err != nil {
		return 0, err
	}
	_, port, _ := net.SplitHostPort(addr)
	tok := rand.Text()
	script := filepath.Join(dir, "floor.sh")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(floorScript, f.Apptainer, work, f.Image, port, tok)), 0o755); err != nil {
		return 0, err
	}
	for _, p := range []string{dir, work, script} {
		if err := os.Chown(p, uid, gid); err != nil {
			return 0, err
		}
	}
	t0 := time.Now()
	cmd := exec.CommandContext(ctx, "runuser", "-u", f.User, "--", "sbatch", "--parsable", "--job-name=det-bench-floor",
		"--partition="+f.Partition, "--nodes=1", "--ntasks=1", "--chdir="+dir, "--output="+filepath.Join(dir, "out.log"), script)
	cmd.Env = Env(f.Repo)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("sbatch the floor job: %w: %s", err, out)
	}
	jobID, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	defer f.cancel(jobID)
	url := "http://" + addr + "/floor/api/status"
	if err := WaitOK(ctx, url, "token "+tok, within); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "out.log"))
		return 0, fmt.Errorf("floor job %s: %w; its output:\n%s", jobID, err, log)
	}
	return time.Since(t0), nil
}

func (f *Floor) cancel(jobID string) {
	cmd := exec.Command("scancel", jobID)
	cmd.Env = Env(f.Repo)
	_ = cmd.Run()
}

// WaitOK polls url, with the Authorization value auth, every 50 ms until
// it answers 200.
func WaitOK(ctx context.Context, url, auth string, within time.Duration) error {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(within)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Authorization", auth)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 within %s", url, within)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
