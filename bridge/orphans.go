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

// Orphans lists the pending or running jobs that carry a bridge job name
// but whose task the store does not know, or knows as ended.
func (s *Server) Orphans(ctx context.Context) ([]slurm.Job, error) {
	jobs, err := s.slurm.Active(ctx)
	if err != nil {
		return nil, err
	}
	var out []slurm.Job
	for _, j := range jobs {
		id := slurm.TaskIDOf(j.Name)
		if id == "" || j.State == "COMPLETING" {
			continue
		}
		t, err := s.store.GetTask(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			out = append(out, j)
		case err != nil:
			return nil, err
		case api.Terminal(t.State) || t.JobID != j.ID:
			out = append(out, j)
		}
	}
	return out, nil
}

// sweepOrphans reports unknown bridge jobs, and cancels those left by a
// submit that failed half-way.
func (s *Server) sweepOrphans(ctx context.Context) {
	orphans, err := s.Orphans(ctx)
	if err != nil {
		s.log.Warn("look for orphan jobs", "err", err)
		return
	}
	cancelled := map[string]bool{}
	defer s.abandoned.swept(cancelled)
	for _, j := range orphans {
		if id := slurm.TaskIDOf(j.Name); s.abandoned.has(id) {
			s.log.Info("cancelling the job of a submit that failed", "job_id", j.ID, "name", j.Name)
			if err := s.slurm.Cancel(ctx, j.ID); err != nil {
				s.log.Warn("cancel orphan job", "job_id", j.ID, "err", err)
			} else {
				cancelled[id] = true
			}
			continue
		}
		s.log.Warn("a job carries a bridge job name but no known task; `det-bridge orphans --cancel` cancels it",
			"job_id", j.ID, "name", j.Name, "user", j.User, "state", j.State)
	}
}

// CancelJob cancels a Slurm job by id (for `det-bridge orphans --cancel`).
func (s *Server) CancelJob(ctx context.Context, jobID string) error {
	return s.slurm.Cancel(ctx, jobID)
}
