package bridge

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/det-slurm/bridge/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/slurm"
)

// orphanSweep is how often the bridge looks for jobs it does not know.
const orphanSweep = time.Minute

// abandoned remembers tasks whose sbatch failed in a way that may still
// have queued the job (the controller timed out): if such a job shows up,
// the sweep cancels it.
type abandoned struct {
	mu  sync.Mutex
	ids map[string]time.Time
}

func (a *abandoned) add(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ids == nil {
		a.ids = map[string]time.Time{}
	}
	a.ids[id] = time.Now()
}

func (a *abandoned) has(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.ids[id]
	return ok
}

// TaskIDOf returns the task id a bridge job name carries
// ("det-notebook-<uuid>"), or "".
func TaskIDOf(jobName string) string {
	rest, ok := strings.CutPrefix(jobName, "det-")
	if !ok {
		return ""
	}
	_, id, ok := strings.Cut(rest, "-")
	if !ok || len(id) != 36 {
		return ""
	}
	return id
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
		id := TaskIDOf(j.Name)
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
	for _, j := range orphans {
		if s.abandoned.has(TaskIDOf(j.Name)) {
			s.log.Info("cancelling the job of a submit that failed", "job_id", j.ID, "name", j.Name)
			if err := s.slurm.Cancel(ctx, j.ID); err != nil {
				s.log.Warn("cancel orphan job", "job_id", j.ID, "err", err)
			}
			continue
		}
		s.log.Warn("a job carries a bridge job name but no known task; `det-bridge orphans --cancel` cancels it",
			"job_id", j.ID, "name", j.Name, "user", j.User, "state", j.State)
	}
}

// controllerTrouble reports whether a failed Slurm command may not have
// reached the controller (a time-out or a connection error), as opposed
// to a refusal.
func controllerTrouble(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	msg := err.Error()
	for _, m := range []string{"Unable to contact slurm controller", "Socket timed out", "Zero Bytes were transmitted", "Connection refused", "Connection timed out"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// CancelJob cancels a Slurm job by id (for `det-bridge orphans --cancel`).
func (s *Server) CancelJob(ctx context.Context, jobID string) error {
	return s.slurm.Cancel(ctx, jobID)
}
