package bridge

import (
	"sync"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/slurm"
)

// slurmView is what the bridge last learned from Slurm: whether its view
// is stale (the controller did not answer), and per task the facts that
// are not worth a database write (estimated start, walltime left).
type slurmView struct {
	mu        sync.Mutex
	stale     bool
	staleErr  string
	since     time.Time // first failure of the current outage
	lastOK    time.Time
	failures  int
	nextTry   time.Time
	asking    time.Time // start of the query in flight; zero when none
	slowAfter time.Duration
	jobs      map[string]slurm.Job // by task id
	warned    map[string]bool      // walltime warning given
	ends      map[string]time.Time // where each running job's end lay at the last tick
	cancelled map[string]time.Time // last scancel sent for a TERMINATING task
}

// viewStatus is the bridge's view of the controller.
type viewStatus struct {
	Stale  bool
	Error  string
	Since  time.Time
	LastOK time.Time
}

// status reports the view; a query that has gone unanswered for longer
// than slowAfter already makes it stale.
func (v *slurmView) status() viewStatus {
	v.mu.Lock()
	defer v.mu.Unlock()
	st := viewStatus{Stale: v.stale, Error: v.staleErr, Since: v.since, LastOK: v.lastOK}
	if !st.Stale && !v.asking.IsZero() && v.slowAfter > 0 && time.Since(v.asking) > v.slowAfter {
		st.Stale, st.Since = true, v.asking
		st.Error = "squeue has not answered for " + time.Since(v.asking).Round(time.Second).String()
	}
	return st
}

// begin records that a query is in flight.
func (v *slurmView) begin(now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.asking = now
}

// api returns the status as the API shows it.
func (st viewStatus) api() api.SlurmStatus {
	out := api.SlurmStatus{Stale: st.Stale, Error: st.Error}
	if !st.Since.IsZero() {
		out.Since = &st.Since
	}
	if !st.LastOK.IsZero() {
		out.LastOK = &st.LastOK
	}
	return out
}

// due reports whether a query should be tried now (backing off while the
// controller fails).
func (v *slurmView) due(now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return !now.Before(v.nextTry)
}

// failed records a failed query and backs off: 1 s, 2 s, 4 s ... 30 s.
func (v *slurmView) failed(now time.Time, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.stale {
		v.since = now
		if !v.asking.IsZero() {
			v.since = v.asking
		}
	}
	v.asking = time.Time{}
	v.stale, v.staleErr = true, err.Error()
	v.failures++
	back := time.Second << min(v.failures-1, 5)
	v.nextTry = now.Add(min(back, 30*time.Second))
}

// ok records a successful query and the jobs it returned.
func (v *slurmView) ok(now time.Time, byTask map[string]slurm.Job) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.stale, v.staleErr, v.failures, v.nextTry, v.lastOK = false, "", 0, time.Time{}, now
	v.asking = time.Time{}
	v.since = time.Time{}
	v.jobs = byTask
}

func (v *slurmView) job(taskID string) (slurm.Job, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	j, ok := v.jobs[taskID]
	return j, ok
}

// warnOnce reports true the first time it is called for a task.
func (v *slurmView) warnOnce(taskID string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.warned == nil {
		v.warned = map[string]bool{}
	}
	if v.warned[taskID] {
		return false
	}
	v.warned[taskID] = true
	return true
}

// cancelDue reports whether a TERMINATING task's scancel should be sent
// (again): at most every 5 s.
func (v *slurmView) cancelDue(taskID string, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cancelled == nil {
		v.cancelled = map[string]time.Time{}
	}
	if now.Sub(v.cancelled[taskID]) < 5*time.Second {
		return false
	}
	v.cancelled[taskID] = now
	return true
}
