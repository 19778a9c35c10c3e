package bridge

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

// Preemption. A job of a preemptible pool is submitted with --requeue:
// when Slurm preempts it, Slurm itself queues the same job again (same
// job id, so the store and Slurm never disagree about which job is the
// task's), and when it runs again its launcher starts over in the same job
// folder and calls ready with its new node and port, which the route
// follows. The bridge sees a task that was STARTING or RUNNING whose job
// is pending again, and shows it QUEUED with the preemption's reason. A
// job of any other pool gets --no-requeue: Slurm cancels it when it
// preempts it (state PREEMPTED), and the task ends with reason
// "preempted".

// warnSignal is the signal a preemptible job's launcher gets when Slurm
// warns that the job ends soon: at the start of a preemption's grace time
// (where the site sets preempt_send_user_signal) and warnBefore seconds
// before its time limit. B: sends it to the batch script, the launcher.
const (
	warnSignal = "USR1"
	warnBefore = 60
)

// requeueArgs are the sbatch options a pool's preemption policy gives its
// jobs.
func requeueArgs(pool *siteconfig.Pool) []string {
	if !pool.Preemptible {
		return []string{"--no-requeue"}
	}
	// A requeued job writes its output to the same file: appended, so the
	// first run's log is kept.
	return []string{"--requeue", "--open-mode=append", fmt.Sprintf("--signal=B:%s@%d", warnSignal, warnBefore)}
}

// pendingStates are Slurm's states of a job waiting to run.
var pendingStates = map[string]bool{"PENDING": true, "REQUEUED": true, "REQUEUE_FED": true, "REQUEUE_HOLD": true, "SUSPENDED": true}

// requeuedJob reports whether a task whose job ran is queued again: Slurm
// preempted (or otherwise requeued) the job, and it will run again.
func requeuedJob(t *store.Task, job slurm.Job) bool {
	if t.State != api.StateStarting && t.State != api.StateRunning {
		return false
	}
	return pendingStates[job.State] && job.State != "SUSPENDED"
}

// requeuesOnPreemption reports whether a task's job is one Slurm queues
// again when it preempts it (its pool is preemptible): a PREEMPTED state
// seen on the way is not its end. Should Slurm not requeue it after all,
// squeue forgets the job and accounting tells how it ended.
func (s *Server) requeuesOnPreemption(t *store.Task) bool {
	pool, ok := s.cfg.Pool(t.Pool)
	return ok && pool.Preemptible
}

// preemptedPrefix starts the reason of a task whose job was preempted and
// waits to run again.
const preemptedPrefix = "preempted at "

// preemptedReason is that reason for a preemption at at.
func preemptedReason(at time.Time) string {
	return preemptedPrefix + at.Local().Format("15:04") + ", waiting to run again"
}

// waitingAfterPreemption reports whether a QUEUED task waits to run again
// after a preemption: its reason stays until the job runs.
func waitingAfterPreemption(t *store.Task) bool {
	return t.State == api.StateQueued && t.Restarts > 0 && strings.HasPrefix(t.Reason, preemptedPrefix)
}

// requeued records that Slurm preempted a task's job and queued it again.
func (s *Server) requeued(ctx context.Context, t *store.Task, job slurm.Job) error {
	now := time.Now()
	reason := preemptedReason(now)
	msg := fmt.Sprintf("preempted by Slurm at %s: job %s is queued again (Slurm's reason: %s) and keeps this notebook's id, URL, owner and working folder; "+
		"when it runs again, Jupyter starts afresh, so kernels are restarted and their memory is gone (save notebooks now where the browser still holds them)",
		now.Local().Format("15:04:05"), t.JobID, orNone(job.Reason))
	if err := s.store.Requeued(ctx, t.ID, api.StateQueued, reason, now, msg); err != nil {
		return err
	}
	t.State, t.Reason, t.Node, t.Host, t.Port = api.StateQueued, reason, "", "", 0
	t.Restarts++
	t.PreemptedTime = now
	s.view.restarted(t.ID)
	s.reports.drop(t.ID)
	s.setRoute(t)
	s.log.Info("task preempted; its job is queued again", "task_id", t.ID, "job_id", t.JobID, "restarts", t.Restarts)
	return nil
}

func orNone(reason string) string {
	if reason == "" || reason == "None" {
		return "none given"
	}
	return reason
}

// readyReason is the reason a task shows once it runs: after a
// preemption, that its kernels were restarted. A ready callback while the
// task is already RUNNING at another port is a run of a requeued job the
// bridge did not see queued (it was down meanwhile): it is counted here.
func (s *Server) readyReason(ctx context.Context, t *store.Task, node string, port int) string {
	now := time.Now()
	if t.State == api.StateRunning && t.Port != 0 && t.Port != port {
		msg := fmt.Sprintf("job %s runs again on %s: Slurm requeued it while the bridge was not watching (preempted, or after a node failure); "+
			"Jupyter started afresh, so kernels were restarted and their memory is gone", t.JobID, node)
		if err := s.store.RestartSeen(ctx, t.ID, now, msg); err != nil {
			s.log.Error("record a restart", "task_id", t.ID, "err", err)
		} else {
			t.Restarts++
			t.PreemptedTime = now
			s.view.restarted(t.ID)
		}
	} else if t.Restarts > 0 && t.State != api.StateRunning {
		_ = s.store.AddEvent(ctx, t.ID, fmt.Sprintf("running again on %s after the preemption at %s: Jupyter started afresh, so kernels were restarted and their memory is gone; "+
			"files in the working folder are kept", node, t.PreemptedTime.Local().Format("15:04")))
	}
	if t.Restarts == 0 {
		return ""
	}
	return "restarted after the preemption at " + t.PreemptedTime.Local().Format("15:04") + ": kernels were restarted and their memory is gone"
}
