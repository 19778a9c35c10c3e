package bridge

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/slurm"
)

// orphanSweep is how often the bridge looks for jobs it does not know.
const orphanSweep = time.Minute

// abandoned remembers tasks that ended without a job recorded although one
// may have been queued for them (sbatch timed out, the submit failed or
// was cut short after sbatch): if such a job shows up, the sweep cancels
// it. An entry goes once its job is cancelled, or after abandonSweeps
// sweeps that listed Slurm's jobs without finding one.
type abandoned struct {
	mu  sync.Mutex
	ids map[string]int // task id -> sweeps since it was added
}

// abandonSweeps is how many sweeps look for an abandoned task's job.
const abandonSweeps = 3

func (a *abandoned) add(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ids == nil {
		a.ids = map[string]int{}
	}
	a.ids[id] = 0
}

func (a *abandoned) has(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.ids[id]
	return ok
}

// swept counts a sweep that listed Slurm's jobs: the tasks in cancelled
// (their jobs are gone) are forgotten, and so are those not found for
// abandonSweeps sweeps.
func (a *abandoned) swept(cancelled map[string]bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, n := range a.ids {
		if cancelled[id] || n+1 >= abandonSweeps {
			delete(a.ids, id)
			continue
		}
		a.ids[id] = n + 1
	}
}

// Orphans lists, on every cluster, the pending or running jobs that carry
// a bridge job name but whose task the store does not know, or knows as
// ended or as another job's; each job's Cluster says where it is.
func (s *Server) Orphans(ctx context.Context) ([]slurm.Job, error) {
	var out []slurm.Job
	for _, cl := range s.clusters() {
		jobs, err := s.clusterOrphans(ctx, cl)
		if err != nil {
			return nil, clusterErr(cl, err)
		}
		out = append(out, jobs...)
	}
	return out, nil
}

// clusterOrphans lists one cluster's orphan jobs.
func (s *Server) clusterOrphans(ctx context.Context, cl string) ([]slurm.Job, error) {
	jobs, err := s.slurmOf(cl).Active(ctx)
	if err != nil {
		return nil, err
	}
	var out []slurm.Job
	for _, j := range jobs {
		id := slurm.TaskIDOf(j.Name)
		if id == "" || j.State == "COMPLETING" {
			continue
		}
		j.Cluster = cl
		t, err := s.store.GetTask(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			out = append(out, j)
		case err != nil:
			return nil, err
		case api.Terminal(t.State) || t.JobID != j.ID || t.Cluster != cl:
			out = append(out, j)
		}
	}
	return out, nil
}

// sweepOrphans sweeps every cluster.
func (s *Server) sweepOrphans(ctx context.Context) {
	s.sweepClusters(ctx, func(string) bool { return true })
}

// sweepClusters sweeps the clusters want picks; a sweep counts for the
// abandoned tasks when at least one cluster listed its jobs.
func (s *Server) sweepClusters(ctx context.Context, want func(cluster string) bool) {
	cancelled, listed := map[string]bool{}, false
	for _, cl := range s.clusters() {
		if want(cl) && s.sweepClusterOrphans(ctx, cl, cancelled) {
			listed = true
		}
	}
	if listed {
		s.abandoned.swept(cancelled)
	}
}

// sweepClusterOrphans reports a cluster's unknown bridge jobs, and
// cancels those left by a submit that failed half-way, adding their
// tasks to cancelled. It reports whether the cluster listed its jobs.
func (s *Server) sweepClusterOrphans(ctx context.Context, cl string, cancelled map[string]bool) bool {
	log := s.log
	if cl != "" {
		log = log.With("cluster", cl)
	}
	orphans, err := s.clusterOrphans(ctx, cl)
	if err != nil {
		log.Warn("look for orphan jobs", "err", err)
		return false
	}
	for _, j := range orphans {
		if id := slurm.TaskIDOf(j.Name); s.abandoned.has(id) {
			log.Info("cancelling the job of a submit that failed", "job_id", j.ID, "name", j.Name)
			if err := s.slurmOf(cl).Cancel(ctx, j.ID); err != nil {
				log.Warn("cancel orphan job", "job_id", j.ID, "err", err)
			} else {
				cancelled[id] = true
			}
			continue
		}
		log.Warn("a job carries a bridge job name but no known task; `det-bridge orphans --cancel` cancels it",
			"job_id", j.ID, "name", j.Name, "user", j.User, "state", j.State)
	}
	return true
}

// CancelJob cancels a Slurm job by cluster and id (for `det-bridge
// orphans --cancel`).
func (s *Server) CancelJob(ctx context.Context, cluster, jobID string) error {
	return s.slurmOf(cluster).Cancel(ctx, jobID)
}
