package suite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bench/internal/cluster"
	"github.com/det-slurm/bridge/bench/internal/report"
	"github.com/det-slurm/bridge/client"
	"github.com/det-slurm/bridge/siteconfig"
)

// directPool is the dev cluster's CPU pool in direct proxy mode: its
// launcher holds a TCP port on the node, which the Jupyter rows load
// directly and put nginx and CHP in front of (pool cpu, in tunnel mode,
// holds none).
const directPool = "cpu-direct"

// clusterPhases, with the cluster lock held, measures time to notebook
// against the floor, Jupyter through the proxies and the controller load,
// and kills every notebook it started.
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
	if err := timeToNotebook(ctx, e, nbs); err != nil {
		return err
	}
	direct, _, err := startAndWait(ctx, e, nbs, directPool)
	if err != nil {
		return fmt.Errorf("a notebook in pool %s for the Jupyter rows: %w", directPool, err)
	}
	if err := jupyterHTTP(ctx, e, c, direct, filepath.Join(cfg.JobStorageRoot, e.opts.posixUser, direct)); err != nil {
		return err
	}
	nbs.kill(direct)
	return controllerLoad(ctx, e, cfg.Interval, nbs)
}

// timeToNotebook times `det notebook start` to the first 200 from the
// proxied /api/status, and the floor, alternately, on pool cpu.
func timeToNotebook(ctx context.Context, e *env, nbs *mine) error {
	f := &cluster.Floor{
		Repo: e.opts.repo, User: e.opts.posixUser, Partition: "cpu", Dir: e.work,
		Image:     filepath.Join(e.opts.repo, ".devcluster", "images", "jupyterlab.sif"),
		Apptainer: filepath.Join(e.opts.repo, ".devcluster", "bin", "apptainer"),
	}
	var floors, ttns []time.Duration
	for i := 0; i < e.plan.ttnReps; i++ {
		floor, err := f.Run(ctx, 2*time.Minute)
		if err != nil {
			return err
		}
		id, ttn, err := startAndWait(ctx, e, nbs, "cpu")
		if err != nil {
			return err
		}
		nbs.kill(id)
		floors, ttns = append(floors, floor), append(ttns, ttn)
		e.logf("floor %s, time to notebook %s", floor.Round(time.Millisecond), ttn.Round(time.Millisecond))
	}
	over := spread(ttns, time.Second)["median"] - spread(floors, time.Second)["median"]
	e.section(report.Section{
		Title: "4. Time to notebook", Columns: spreadCols,
		Rows: []report.Row{
			{Key: kTTN, Label: "det notebook start → first 200 from /proxy/<id>/api/status", Unit: "s", Kind: report.Plain, Values: spread(ttns, time.Second)},
			{Key: kFloor, Label: "floor: sbatch of apptainer exec … jupyter-lab → first 200", Unit: "s", Kind: report.Plain, Values: spread(floors, time.Second)},
			{Key: kTTNOver, Label: "time to notebook − floor (medians)", Unit: "s", Kind: report.Plain, Values: map[string]float64{"median": over}},
		},
		Notes: []string{fmt.Sprintf("%d runs each, alternating, on pool cpu (resources.slots=0) as %s, polled every 50 ms. The floor job runs "+
			"the same SIF's jupyter-lab through the same apptainer on the same partition, without det-launcher or the bridge.", len(ttns), e.opts.posixUser)},
	})
	return nil
}

// startAndWait runs `det notebook start -d` on pool and polls the
// proxied /api/status until it answers 200.
func startAndWait(ctx context.Context, e *env, nbs *mine, pool string) (string, time.Duration, error) {
	t0 := time.Now()
	out, err := e.det(ctx, e.opts.master, nbs.c.Token, "notebook", "start", "-d",
		"--config", "resources.slots=0", "--config", "resources.resource_pool="+pool).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", 0, fmt.Errorf("det notebook start: %w", err)
	}
	id := strings.TrimSpace(string(out))
	nbs.add(id)
	if err := cluster.WaitOK(ctx, e.opts.master+"/proxy/"+id+"/api/status", "Bearer "+nbs.c.Token, 3*time.Minute); err != nil {
		return "", 0, fmt.Errorf("notebook %s: %w", id, err)
	}
	return id, time.Since(t0), nil
}

// det is a command of bin/det against master with token.
func (e *env) det(ctx context.Context, master, token string, args ...string) *exec.Cmd {
	home := filepath.Join(e.work, "home")
	_ = os.MkdirAll(home, 0o700)
	cmd := exec.CommandContext(ctx, filepath.Join(e.opts.repo, "bin", "det"), args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "DET_MASTER="+master, "DET_USER_TOKEN="+token)
	return cmd
}

// mine are the notebooks the suite started; all are killed at the end.
type mine struct {
	e    *env
	c    *client.Client
	ids  []string // every notebook started
	live []string // those not killed yet
}

func (m *mine) add(id string) { m.ids, m.live = append(m.ids, id), append(m.live, id) }

// start submits notebooks (no GPU, pool cpu) until n are live.
func (m *mine) start(ctx context.Context, n int) error {
	for len(m.live) < n {
		nb, err := m.c.StartNotebook(ctx, map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu"}}, nil)
		if err != nil {
			return fmt.Errorf("start notebook %d: %w", len(m.live)+1, err)
		}
		m.add(nb.ID)
	}
	return nil
}

func (m *mine) kill(id string) {
	m.live = slices.DeleteFunc(m.live, func(l string) bool { return l == id })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := m.c.KillNotebook(ctx, id); err != nil {
		m.e.logf("kill notebook %s: %v", id, err)
	}
}

// killAll kills every notebook started and waits (up to a minute) until
// the bridge has seen them all end, so the next user of the cluster finds
// it empty.
func (m *mine) killAll() {
	for _, id := range m.ids {
		m.kill(id)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		left := 0
		for _, id := range m.ids {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			nb, err := m.c.Notebook(ctx, id)
			cancel()
			if err == nil && nb.State != api.StateTerminated {
				left++
			}
		}
		if left == 0 {
			return
		}
	}
	m.e.logf("some of the notebooks started are not TERMINATED after a minute")
}

// states counts the live notebooks by state (as people read it: RUNNING)
// and returns their Slurm job ids.
func (m *mine) states(ctx context.Context) (map[string]int, []string, error) {
	count := map[string]int{}
	var jobs []string
	for _, id := range m.live {
		nb, err := m.c.Notebook(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		count[api.StateName(nb.State)]++
		if nb.SlurmJobID != "" && !api.Terminal(nb.State) {
			jobs = append(jobs, nb.SlurmJobID)
		}
	}
	return count, jobs, nil
}
