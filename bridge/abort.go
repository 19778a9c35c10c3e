package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// A task is stored before its job is queued, so for a moment it is QUEUED
// without a Slurm job. This file keeps that moment from lasting: a submit
// that fails after sbatch cancels its job and ends its task, a kill ends a
// task whether it has a job or not, and the reconciler ends a task left
// without a job by a submit that is no longer running (the bridge stopped
// half-way).

// Reasons of tasks that end without a job of their own.
const (
	reasonKilled   = "killed by user"
	reasonHalfDone = "the submit did not finish (the bridge stopped or failed while queueing the job); start the notebook again"
)

// inflight are the tasks whose submit is running: stored, and maybe with a
// job queued, but with no job id recorded yet.
type inflight struct {
	mu sync.Mutex
	m  map[string]bool // task id -> killed while in flight
}

func (f *inflight) add(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]bool{}
	}
	f.m[id] = false
}

// finish ends id's submit and reports whether a kill came meanwhile.
// Calling it again is harmless.
func (f *inflight) finish(id string) (killed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	killed = f.m[id]
	delete(f.m, id)
	return killed
}

// kill marks id killed if its submit is running, and reports whether it is.
func (f *inflight) kill(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.m[id]; !ok {
		return false
	}
	f.m[id] = true
	return true
}

func (f *inflight) has(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.m[id]
	return ok
}

// abortQueued undoes a submit that failed after sbatch queued jobID: the
// job is cancelled and the task ends TERMINATED with the reason, its
// tokens revoked. Should any of that fail, the orphan sweep cancels the job
// (the task is marked abandoned) and the reconciler ends the task. It
// returns the error the user sees.
func (s *Server) abortQueued(ctx context.Context, t *store.Task, jobID string, cause error) error {
	ctx = context.WithoutCancel(ctx)
	log := s.log.With("task_id", t.ID, "job_id", jobID)
	log.Error("the submit failed after Slurm queued the job; cancelling the job", "err", cause)
	s.abandoned.add(t.ID)
	if err := s.slurmOf(t.Cluster).Cancel(ctx, jobID); err != nil {
		log.Warn("cancel the job of a failed submit; the orphan sweep tries again", "err", err)
	}
	reason := fmt.Sprintf("the bridge could not record Slurm job %s, so it cancelled the job: %v", jobID, cause)
	if err := s.update(ctx, t, store.Update{State: api.StateTerminated, Reason: reason}, "terminated: "+reason); err != nil {
		if !errors.Is(err, store.ErrNotFound) { // else a kill ended it first
			log.Error("end the task of a failed submit; the reconciler tries again", "err", err)
		}
		if err := s.store.RevokeTaskTokens(ctx, t.ID); err != nil {
			log.Error("revoke the tokens of a failed submit", "err", err)
		}
	}
	return &userError{code: http.StatusInternalServerError,
		msg: fmt.Sprintf("the bridge could not record Slurm job %s, so it cancelled the job and the notebook did not start; try again, and if it fails again ask an admin to look at the bridge's log", jobID)}
}

// killedQueued cancels the job of a task that was killed while its submit
// was running (the kill has ended the task already).
func (s *Server) killedQueued(ctx context.Context, t *store.Task, jobID string) error {
	ctx = context.WithoutCancel(ctx)
	if err := s.slurmOf(t.Cluster).Cancel(ctx, jobID); err != nil {
		s.abandoned.add(t.ID) // the orphan sweep tries again
		s.log.Warn("cancel the job of a notebook killed while it was queued", "task_id", t.ID, "job_id", jobID, "err", err)
	}
	_ = s.store.RevokeTaskTokens(ctx, t.ID)
	return &userError{code: http.StatusConflict, msg: fmt.Sprintf("the notebook was killed while it was being queued; its Slurm job %s was cancelled", jobID)}
}

// endWithoutJob ends a task that has no Slurm job recorded. A job may yet
// have been queued for it (sbatch timed out, or the bridge stopped before
// recording it): the task is marked abandoned, so the orphan sweep cancels
// any job that carries its id.
func (s *Server) endWithoutJob(ctx context.Context, t *store.Task, reason, event string) error {
	s.abandoned.add(t.ID)
	return s.update(ctx, t, store.Update{State: api.StateTerminated, Reason: reason}, event)
}

// endHalfDone ends a live task without a job id whose submit is not
// running (it was cut short): its id is re-read first, since its submit
// may have recorded the job since the task was listed.
func (s *Server) endHalfDone(ctx context.Context, t *store.Task) {
	if s.submitting.has(t.ID) {
		return
	}
	cur, err := s.store.GetTask(ctx, t.ID)
	if err != nil || api.Terminal(cur.State) || cur.JobID != "" {
		return
	}
	s.log.Warn("a task has no Slurm job and no submit is running for it; ending it", "task_id", t.ID)
	if err := s.endWithoutJob(ctx, cur, reasonHalfDone, "terminated: "+reasonHalfDone); err != nil {
		s.log.Error("end a task left without a job", "task_id", t.ID, "err", err)
	}
}
