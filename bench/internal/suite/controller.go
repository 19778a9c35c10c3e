package suite

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/det-slurm/bridge/bench/internal/cluster"
	"github.com/det-slurm/bridge/bench/internal/report"
)

// patternPeriod is how often batchspawner asks Slurm about each job.
const patternPeriod = 30 * time.Second

// controllerLoad counts the controller's RPCs over a fixed window with
// 1, 10 and 50 of the suite's notebooks live, while, as another POSIX
// user, one squeue -j per notebook every 30 s (batchspawner's pattern)
// runs against the same jobs; sdiag's per-user counts tell them apart.
func controllerLoad(ctx context.Context, e *env, interval time.Duration, nbs *mine) error {
	env := cluster.Env(e.opts.repo)
	env2, second := cluster.SecondEnv(e.opts.repo)
	sec := report.Section{Title: "5. Controller load (sdiag RPCs per minute)", Columns: []string{pBridge, cSqueue}, Compare: true}
	var last cluster.Stats
	for _, n := range e.plan.loadN {
		if err := nbs.start(ctx, n); err != nil {
			return err
		}
		states, jobs, err := settle(ctx, e, nbs, 3*time.Minute)
		if err != nil {
			return err
		}
		if err := cluster.ResetSdiag(ctx, env); err != nil {
			return err
		}
		if second {
			if err := cluster.ResetSdiag(ctx, env2); err != nil {
				return err
			}
		}
		t0 := time.Now()
		calls := squeuePattern(ctx, env, e.opts.patternUser, jobs, e.plan.window)
		st, err := cluster.ReadSdiag(ctx, env)
		if err != nil {
			return err
		}
		var other cluster.Stats
		if second {
			if other, err = cluster.ReadSdiag(ctx, env2); err != nil {
				return err
			}
		}
		perMin := 60 / time.Since(t0).Seconds()
		last = st
		bridgeAll := float64(st.ByUser["root"]-st.ByType["REQUEST_STATS_INFO"]) * perMin
		bridgeJob := float64(st.JobInfo()-calls) * perMin
		label := fmt.Sprintf("%d notebooks (%d running, %d queued)", n, states["RUNNING"], states["QUEUED"])
		e.logf("%s: bridge %.0f job-info RPCs/min (%.0f all); pattern %d squeue calls, %.0f RPCs/min",
			label, bridgeJob, bridgeAll, calls, float64(st.ByUser[e.opts.patternUser])*perMin)
		sec.Rows = append(sec.Rows,
			report.Row{Key: ctlKey(n, sJobInfo), Label: label + ": job-info RPCs/min", Unit: "RPC/min", Kind: report.Rate,
				Values: map[string]float64{pBridge: bridgeJob, cSqueue: float64(calls) * perMin}},
			report.Row{Key: ctlKey(n, sAllRPC), Label: label + ": all RPCs/min", Unit: "RPC/min", Kind: report.Rate,
				Values: map[string]float64{pBridge: bridgeAll, cSqueue: float64(st.ByUser[e.opts.patternUser]) * perMin}},
			report.Row{Key: ctlKey(n, sPerTick), Label: label + ": bridge job-info RPCs per reconcile tick", Unit: "count", Kind: report.Plain,
				Values: map[string]float64{pBridge: bridgeJob / (time.Minute.Seconds() / interval.Seconds())}},
		)
		if second {
			sec.Rows = append(sec.Rows, report.Row{Key: ctlKey(n, sOther), Label: label + ": RPCs/min on the second cluster's controller (none of these notebooks there)",
				Unit: "RPC/min", Kind: report.Rate,
				Values: map[string]float64{pBridge: float64(other.ByUser["root"]-other.ByType["REQUEST_STATS_INFO"]) * perMin}})
		}
	}
	sec.Notes = []string{fmt.Sprintf("Each figure is counted over a %s window after `sdiag -r`, with the notebooks settled. Notebooks are real JupyterLab "+
		"notebooks on pool cpu (resources.slots=0); the cpu node has 16 CPUs, so at most 16 run at once and the rest wait in the queue: the bridge "+
		"tracks (and asks Slurm about) all of them. The bridge's reconcile tick is %s. bridge = RPCs sent as root (the bridge's squeue, sinfo and scancel; "+
		"slurmd's own messages are root's too) less sdiag's own; job-info = REQUEST_JOB_INFO + REQUEST_JOB_INFO_SINGLE less the comparison's squeue calls "+
		"(one each). The second cluster's row counts root's RPCs on devcluster2's own controller over the same window (the bridge reaches it through its slurmrestd; slurmd's pings are root's too): what a cluster with none of the bridge's notebooks costs. The comparison runs `squeue -h -j <job> -o '%%T %%B'` as %s for each of the same jobs every 30 s, staggered, and is counted by "+
		"its user. RPC types in the last window: %s.", e.plan.window, interval, e.opts.patternUser, typesLine(last))}
	e.section(sec)
	return nil
}

// settle waits until no notebook is starting and the running count has
// held for 3 s (jobs beyond the cluster's room stay queued).
func settle(ctx context.Context, e *env, nbs *mine, within time.Duration) (map[string]int, []string, error) {
	deadline := time.Now().Add(within)
	lastRunning, since := -1, time.Now()
	for {
		states, jobs, err := nbs.states(ctx)
		if err != nil {
			return nil, nil, err
		}
		if states["TERMINATED"]+states["TERMINATING"] > 0 {
			return nil, nil, fmt.Errorf("notebooks ended while starting: %v", states)
		}
		if states["RUNNING"] != lastRunning {
			lastRunning, since = states["RUNNING"], time.Now()
		}
		if states["STARTING"] == 0 && states["RUNNING"] > 0 && time.Since(since) >= 3*time.Second {
			return states, jobs, nil
		}
		if time.Now().After(deadline) {
			e.note(fmt.Sprintf("Notebooks had not settled after %s (%v); measured as they were.", within, states))
			return states, jobs, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// squeuePattern runs, as user, one squeue per job every patternPeriod
// (job i first at i/len(jobs) of the period) until window ends, and
// returns how many it ran.
func squeuePattern(ctx context.Context, env []string, user string, jobs []string, window time.Duration) int {
	type call struct {
		at  time.Duration
		job string
	}
	var plan []call
	for i, j := range jobs {
		for at := patternPeriod * time.Duration(i) / time.Duration(len(jobs)); at < window; at += patternPeriod {
			plan = append(plan, call{at, j})
		}
	}
	sort.Slice(plan, func(a, b int) bool { return plan[a].at < plan[b].at })
	t0 := time.Now()
	n := 0
	for _, c := range plan {
		if wait := time.Until(t0.Add(c.at)); wait > 0 {
			select {
			case <-ctx.Done():
				return n
			case <-time.After(wait):
			}
		}
		cmd := exec.CommandContext(ctx, "runuser", "-u", user, "--", "squeue", "-h", "-j", c.job, "-o", "%T %B")
		cmd.Env = env
		_ = cmd.Run()
		n++
	}
	if rest := time.Until(t0.Add(window)); rest > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(rest):
		}
	}
	return n
}

func typesLine(st cluster.Stats) string {
	var parts []string
	for t, c := range st.ByType {
		parts = append(parts, fmt.Sprintf("%s %d", t, c))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
