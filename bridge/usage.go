package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/metrics"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/taskconfig"
)

// Reasons a job is cancelled, as metrics count them.
const (
	cancelIdle  = "idle"
	cancelUser  = "user"
	cancelAdmin = "admin"
)

// heldIdleWithoutTimeout is when a running task without an idle timeout
// counts as holding its GPUs idle.
const heldIdleWithoutTimeout = 30 * time.Minute

// killReason tells whether a kill came from the task's owner or from an
// admin acting on another user's task.
func killReason(by *store.User, t *store.Task) string {
	if by != nil && by.Username != t.Owner && by.Admin {
		return cancelAdmin
	}
	return cancelUser
}

// queuedSince is when a task last entered Slurm's queue: its submission,
// or its last preemption.
func queuedSince(t *store.Task) time.Time {
	if t.PreemptedTime.After(t.RegisteredTime) {
		return t.PreemptedTime
	}
	return t.RegisteredTime
}

// queuedFor is how long a task waited in the queue, from Slurm's start
// time when it has one.
func queuedFor(t *store.Task, start, now time.Time) time.Duration {
	since := queuedSince(t)
	if start.IsZero() || start.Before(since) || start.After(now) {
		start = now
	}
	return start.Sub(since)
}

// MetricsSnapshot reads what the metrics' gauges show: tasks by kind, pool
// and state; per pool, the GPUs of running tasks and of those idle for
// more than half their idle timeout; the view of Slurm; open tunnels.
func (s *Server) MetricsSnapshot(ctx context.Context) (metrics.Snapshot, error) {
	counts, err := s.store.CountTasks(ctx)
	if err != nil {
		return metrics.Snapshot{}, fmt.Errorf("count tasks: %w", err)
	}
	live, err := s.store.LiveTasks(ctx)
	if err != nil {
		return metrics.Snapshot{}, fmt.Errorf("list live tasks: %w", err)
	}
	snap := metrics.Snapshot{Pools: s.poolGPUs(live, time.Now()), Tasks: s.taskCounts(counts)}
	for _, cl := range s.clusters() {
		st := s.view.clusterStatus(cl)
		v := metrics.SlurmView{Cluster: s.cfg.ClusterLabel(cl), Stale: st.Stale}
		if !st.LastOK.IsZero() {
			v.AgeSeconds = time.Since(st.LastOK).Seconds()
		}
		snap.Slurm = append(snap.Slurm, v)
	}
	snap.Tunnels = s.tunnels.Open()
	return snap, nil
}

// taskStates are the states the tasks gauge shows, zeros included.
var taskStates = []string{api.StateQueued, api.StateStarting, api.StateRunning, api.StateTerminating, api.StateTerminated}

// taskCounts lists the store's counts, and a zero for every kind, pool
// and state that has none: a gauge that drops to 0 says so, where a
// missing series would only go stale.
func (s *Server) taskCounts(counts []store.TaskCount) []metrics.TaskCount {
	type key struct{ kind, pool, state string }
	seen := map[key]bool{}
	var out []metrics.TaskCount
	for _, c := range counts {
		seen[key{c.Type, c.Pool, c.State}] = true
		out = append(out, metrics.TaskCount{Kind: c.Type, Pool: c.Pool, State: api.StateName(c.State), N: c.N})
	}
	for _, kind := range []string{typeNotebook, typeShell} {
		for _, p := range s.cfg.ResourcePools {
			for _, st := range taskStates {
				if !seen[key{kind, p.Name, st}] {
					out = append(out, metrics.TaskCount{Kind: kind, Pool: p.Name, State: api.StateName(st)})
				}
			}
		}
	}
	return out
}

// poolGPUs sums, per pool, the GPUs of the running tasks among live and
// those of the ones idle past half their idle timeout. Every configured
// pool is listed, with zeros when nothing runs there.
func (s *Server) poolGPUs(live []*store.Task, now time.Time) []metrics.PoolGPUs {
	byPool := map[string]*metrics.PoolGPUs{}
	var out []*metrics.PoolGPUs
	add := func(name string) *metrics.PoolGPUs {
		if p := byPool[name]; p != nil {
			return p
		}
		p := &metrics.PoolGPUs{Pool: name}
		byPool[name] = p
		out = append(out, p)
		return p
	}
	for _, p := range s.cfg.ResourcePools {
		add(p.Name)
	}
	for _, t := range live {
		if t.State != api.StateRunning || t.Slots == 0 {
			continue
		}
		p := add(t.Pool)
		p.Allocated += t.Slots
		if s.heldIdle(t, now) {
			p.Idle += t.Slots
		}
	}
	res := make([]metrics.PoolGPUs, len(out))
	for i, p := range out {
		res[i] = *p
	}
	return res
}

// heldIdle reports whether a running task has been idle for more than
// half its idle timeout (or heldIdleWithoutTimeout when it has none).
func (s *Server) heldIdle(t *store.Task, now time.Time) bool {
	var cfg taskconfig.Config
	if err := json.Unmarshal([]byte(t.Config), &cfg); err != nil {
		return false
	}
	threshold := heldIdleWithoutTimeout
	if timeout, err := cfg.IdleTimeoutDuration(); err == nil && timeout > 0 {
		threshold = timeout / 2
	}
	return DecideIdle(s.idleInput(t, &cfg, threshold, now))
}
