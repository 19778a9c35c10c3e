package bridge

import (
	"sync"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/slurm"
)

// slurmView is what the bridge last learned from Slurm: per cluster,
// whether its view is stale (the controller did not answer), and per task
// the facts that are not worth a database write (estimated start,
// walltime left).
type slurmView struct {
	mu sync.Mutex
	// clusterHealth is the local cluster's; others holds the other
	// clusters', by name.
	clusterHealth
	others    map[string]*clusterHealth
	slowAfter time.Duration
	jobs      map[string]map[string]slurm.Job // by cluster, then task id
	warned    map[string]bool                 // walltime warning given
	ends      map[string]time.Time            // where each running job's end lay at the last tick
	cancelled map[string]time.Time            // last scancel sent for a TERMINATING task
}

// clusterHealth is how one cluster's controller has answered lately.
type clusterHealth struct {
	stale    bool
	staleErr string
	since    time.Time // first failure of the current outage
	lastOK   time.Time
	failures int
	nextTry  time.Time
	asking   time.Time // start of the query in flight; zero when none
}

// health returns a cluster's record; the caller holds v.mu.
func (v *slurmView) health(cluster string) *clusterHealth {
	if cluster == "" {
		return &v.clusterHealth
	}
	if v.others == nil {
		v.others = map[string]*clusterHealth{}
	}
	h, ok := v.others[cluster]
	if !ok {
		h = &clusterHealth{}
		v.others[cluster] = h
	}
	return h
}

// viewStatus is the bridge's view of one cluster's controller.
type viewStatus struct {
	Stale  bool
	Error  string
	Since  time.Time
	LastOK time.Time
}

// status reports the local cluster's view.
func (v *slurmView) status() viewStatus { return v.clusterStatus("") }

// clusterStatus reports a cluster's view; a query that has gone
// unanswered for longer than slowAfter already makes it stale.
func (v *slurmView) clusterStatus(cluster string) viewStatus {
	v.mu.Lock()
	defer v.mu.Unlock()
	h := v.health(cluster)
	st := viewStatus{Stale: h.stale, Error: h.staleErr, Since: h.since, LastOK: h.lastOK}
	if !st.Stale && !h.asking.IsZero() && v.slowAfter > 0 && time.Since(h.asking) > v.slowAfter {
		st.Stale, st.Since = true, h.asking
		st.Error = "squeue has not answered for " + time.Since(h.asking).Round(time.Second).String()
	}
	return st
}

// begin records that a query of a cluster is in flight.
func (v *slurmView) begin(cluster string, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.health(cluster).asking = now
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

// due reports whether a cluster should be asked now (backing off while
// its controller fails).
func (v *slurmView) due(cluster string, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return !now.Before(v.health(cluster).nextTry)
}

// failed records a failed query of a cluster and backs off: 1 s, 2 s,
// 4 s ... 30 s. The cluster's tasks keep what the view knew of them.
func (v *slurmView) failed(cluster string, now time.Time, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	h := v.health(cluster)
	if !h.stale {
		h.since = now
		if !h.asking.IsZero() {
			h.since = h.asking
		}
	}
	h.asking = time.Time{}
	h.stale, h.staleErr = true, err.Error()
	h.failures++
	back := time.Second << min(h.failures-1, 5)
	h.nextTry = now.Add(min(back, 30*time.Second))
}

// ok records a successful query of a cluster and the jobs it returned,
// by task id.
func (v *slurmView) ok(cluster string, now time.Time, byTask map[string]slurm.Job) {
	v.mu.Lock()
	defer v.mu.Unlock()
	*v.health(cluster) = clusterHealth{lastOK: now}
	if v.jobs == nil {
		v.jobs = map[string]map[string]slurm.Job{}
	}
	v.jobs[cluster] = byTask
}

// job is what the last look at Slurm saw of a task's job.
func (v *slurmView) job(taskID string) (slurm.Job, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, jobs := range v.jobs {
		if j, ok := jobs[taskID]; ok {
			return j, true
		}
	}
	return slurm.Job{}, false
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
