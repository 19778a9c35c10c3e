package suite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bench/internal/cluster"
	"github.com/det-slurm/bridge/bench/internal/report"
	"github.com/det-slurm/bridge/client"
	"github.com/det-slurm/bridge/siteconfig"
)

// cpuNotebook is the notebook config of every notebook the suite starts:
// no GPU, on the CPU-only pool.
var cpuNotebook = map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu"}}

// directPool is the dev cluster's CPU pool in direct proxy mode: its
// launcher holds a TCP port on the node, which the Jupyter rows load
// directly and put nginx and CHP in front of (pool cpu is in tunnel
// mode, the default, and holds none).
const directPool = "cpu-direct"

// clusterPhases holds the cluster lock while it measures time to notebook
// against the floor, Jupyter through the proxies and the controller load,
// and kills every notebook it started before letting go.
func clusterPhases(ctx context.Context, e *env) error {
	if !e.locked {
		return nil // noted when the lock was not had
	}
	cfg, err := siteconfig.Load(filepath.Join(e.opts.repo, "site-configs", "devcluster.yaml"))
	if err != nil {
		return fmt.Errorf("the dev cluster's site config: %w", err)
	}
	c := client.New(e.opts.master, "")
	if _, err := c.Login(ctx, "determined", ""); err != nil {
		return fmt.Errorf("log in to the bridge at %s: %w", e.opts.master, err)
	}
	nbs := &mine{e: e, c: c}
	defer nbs.killAll()
	if others, err := c.Notebooks(ctx); err == nil {
		live := 0
		for _, n := range others {
			if !api.Terminal(n.State) {
				live++
			}
		}
		if live > 0 {
			e.note(fmt.Sprintf("The bridge had %d live notebooks of others' when the cluster phases began.", live))
		}
	}
	last, err := timeToNotebook(ctx, e, nbs)
	if err != nil {
		return err
	}
	nbs.kill(last)
	direct, _, err := startAndWait(ctx, e, nbs, directPool)
	if err != nil {
		return fmt.Errorf("a notebook in pool %s for the Jupyter rows: %w", directPool, err)
	}
	if err := jupyterHTTP(ctx, e, cfg, c, direct); err != nil {
		return err
	}
	nbs.kill(direct)
	return controllerLoad(ctx, e, cfg.Interval, nbs)
}

// timeToNotebook times `det notebook start` to the first 200 from the
// proxied /api/status, and the floor, alternately, on pool cpu; it keeps
// the last notebook running and returns its id.
func timeToNotebook(ctx context.Context, e *env, nbs *mine) (string, error) {
	f := &cluster.Floor{
		Repo: e.opts.repo, User: e.opts.posixUser, Partition: "cpu", Dir: e.work,
		Image:     filepath.Join(e.opts.repo, ".devcluster", "images", "jupyterlab.sif"),
		Apptainer: filepath.Join(e.opts.repo, ".devcluster", "bin", "apptainer"),
	}
	var floors, ttns []time.Duration
	last := ""
	for i := 0; i < e.plan.ttnReps; i++ {
		d, err := f.Run(ctx, 2*time.Minute)
		if err != nil {
			return "", err
		}
		floors = append(floors, d)
		if last != "" {
			nbs.kill(last)
		}
		id, d, err := startAndWait(ctx, e, nbs, "cpu")
		if err != nil {
			return "", err
		}
		last = id
		ttns = append(ttns, d)
		e.logf("floor %s, time to notebook %s", floors[i].Round(time.Millisecond), d.Round(time.Millisecond))
	}
	sort.Slice(floors, func(i, j int) bool { return floors[i] < floors[j] })
	sort.Slice(ttns, func(i, j int) bool { return ttns[i] < ttns[j] })
	row := func(key, label string, d []time.Duration) report.Row {
		return report.Row{Key: key, Label: label, Unit: "s", Kind: report.Plain, Values: map[string]float64{
			"median": d[len(d)/2].Seconds(), "fastest": d[0].Seconds(), "slowest": d[len(d)-1].Seconds()}}
	}
	over := report.Row{Key: "ttn.over", Label: "time to notebook − floor (medians)", Unit: "s", Kind: report.Plain,
		Values: map[string]float64{"median": (ttns[len(ttns)/2] - floors[len(floors)/2]).Seconds()}}
	e.section(report.Section{
		Title: "4. Time to notebook", Columns: []string{"median", "fastest", "slowest"},
		Rows: []report.Row{row("ttn.bridge", "det notebook start → first 200 from /proxy/<id>/api/status", ttns),
			row("ttn.floor", "floor: sbatch of apptainer exec … jupyter-lab → first 200", floors), over},
		Notes: []string{fmt.Sprintf("%d runs each, alternating, on pool cpu (resources.slots=0) as %s, polled every 50 ms. The floor job runs the same SIF's "+
			"jupyter-lab through the same apptainer on the same partition, without det-launcher or the bridge.", len(ttns), e.opts.posixUser)},
	})
	return last, nil
}

// startAndWait runs `det notebook start -d` on pool and polls the
// proxied /api/status until it answers 200.
func startAndWait(ctx context.Context, e *env, nbs *mine, pool string) (string, time.Duration, error) {
	home := filepath.Join(e.work, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", 0, err
	}
	t0 := time.Now()
	cmd := exec.CommandContext(ctx, filepath.Join(e.opts.repo, "bin", "det"), "notebook", "start", "-d",
		"--config", "resources.slots=0", "--config", "resources.resource_pool="+pool)
	cmd.Env = append(os.Environ(), "HOME="+home, "DET_MASTER="+e.opts.master, "DET_USER_TOKEN="+nbs.c.Token)
	out, err := cmd.Output()
	if err != nil {
		return "", 0, fmt.Errorf("det notebook start: %w: %s", err, stderrOf(err))
	}
	id := strings.TrimSpace(string(out))
	nbs.add(id)
	url := e.opts.master + "/proxy/" + id + "/api/status"
	if err := cluster.WaitOK(ctx, url, "Bearer "+nbs.c.Token, 3*time.Minute); err != nil {
		return "", 0, fmt.Errorf("notebook %s: %w", id, err)
	}
	return id, time.Since(t0), nil
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}
