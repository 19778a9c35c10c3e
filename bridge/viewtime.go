package bridge

import (
	"context"
	"fmt"
	"time"

	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/slurm"
)

// endMoveSlack is how much earlier a job's end must come than the last
// tick said before the bridge tells the task's logs so: squeue's time
// left has a resolution of a second and ticks jitter.
const endMoveSlack = 30 * time.Second

// endMovedEarlier records where a running job's end lies now (now plus
// the time left) and reports whether it moved earlier since the last
// tick: Slurm does that when it preempts the job (its end becomes the
// grace time's) or an administrator shortens its limit. The walltime
// warning then counts as given.
func (v *slurmView) endMovedEarlier(taskID string, now time.Time, left time.Duration) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ends == nil {
		v.ends = map[string]time.Time{}
	}
	end := now.Add(left)
	prev, seen := v.ends[taskID]
	v.ends[taskID] = end
	if !seen || !end.Before(prev.Add(-endMoveSlack)) {
		return false
	}
	if v.warned == nil {
		v.warned = map[string]bool{}
	}
	v.warned[taskID] = true
	return true
}

// unwarn lets the walltime warning be given again: the job's limit was
// raised past it, so the warning moves with the new end.
func (v *slurmView) unwarn(taskID string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.warned, taskID)
}

// restarted forgets what the view knew of a task's run: its job runs
// again from the start, with a new end.
func (v *slurmView) restarted(taskID string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.warned, taskID)
	delete(v.ends, taskID)
}

// setJob puts a fresh record of a task's job in the view (after the
// bridge changed the job, before the next tick).
func (v *slurmView) setJob(cluster, taskID string, j slurm.Job) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.jobs == nil {
		v.jobs = map[string]map[string]slurm.Job{}
	}
	if v.jobs[cluster] == nil {
		v.jobs[cluster] = map[string]slurm.Job{}
	}
	v.jobs[cluster][taskID] = j
	delete(v.ends, taskID)
}

// watchEnd tells a running task's logs when its job's end nears or moves
// earlier; a limit raised past the warning lets the warning come again
// before the new end.
func (s *Server) watchEnd(ctx context.Context, t *store.Task, left time.Duration) {
	now := time.Now()
	switch {
	case s.view.endMovedEarlier(t.ID, now, left):
		_ = s.store.AddEvent(ctx, t.ID, fmt.Sprintf("warning: Slurm moved the job's end earlier, to %s (in %s): it is being preempted, or its time limit was lowered; save your work",
			now.Add(left).Local().Format("15:04:05"), left.Round(time.Second)))
	case left >= walltimeWarning:
		s.view.unwarn(t.ID)
	case s.view.warnOnce(t.ID):
		_ = s.store.AddEvent(ctx, t.ID, fmt.Sprintf("warning: the job's time limit ends in %s; save your work", left.Round(time.Second)))
	}
}
