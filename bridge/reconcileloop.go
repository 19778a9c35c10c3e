package bridge

import (
	"context"
	"errors"
	"time"

	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/slurm"
)

// reconcile asks each cluster about its live tasks in one call and
// moves each task's state to match. A failed query changes nothing for
// that cluster's tasks: its view is marked stale and its queries back
// off until its controller answers; the other clusters go on.
func (s *Server) reconcile(ctx context.Context) {
	now := time.Now()
	due := false
	for _, cl := range s.clusters() {
		due = due || s.view.due(cl, now)
	}
	live, err := s.store.LiveTasks(ctx)
	if err != nil {
		s.log.Error("reconcile: load tasks", "err", err)
		return
	}
	byCluster := map[string][]*store.Task{}
	var named []string
	for _, t := range live {
		if t.JobID == "" {
			continue
		}
		if _, ok := byCluster[t.Cluster]; !ok {
			named = append(named, t.Cluster)
		}
		byCluster[t.Cluster] = append(byCluster[t.Cluster], t)
	}
	clusters := s.clusters(named...)
	for _, cl := range clusters[len(s.cfg.ClusterNames()):] {
		due = due || s.view.due(cl, now) // a task's cluster no longer configured
	}
	if !due {
		return
	}
	s.forgetEnded(live, now)
	for _, t := range live {
		if t.JobID == "" {
			s.endHalfDone(ctx, t)
		}
	}
	for _, cl := range clusters {
		s.reconcileCluster(ctx, cl, byCluster[cl], now)
	}
}

// reconcileCluster asks one cluster about its tasks (all with a job) and
// applies what it says.
func (s *Server) reconcileCluster(ctx context.Context, cl string, tasks []*store.Task, now time.Time) {
	if !s.view.due(cl, now) {
		return
	}
	if len(tasks) == 0 {
		s.view.ok(cl, now, nil)
		return
	}
	log := s.log
	if cl != "" {
		log = log.With("cluster", cl)
	}
	ids := make([]string, 0, len(tasks))
	for _, t := range tasks {
		ids = append(ids, t.JobID)
	}
	s.view.begin(cl, now)
	jobs, err := s.slurmOf(cl).Query(ctx, ids)
	if err != nil {
		if !s.view.clusterStatus(cl).Stale {
			log.Warn("Slurm does not answer; keeping every task's state until it does", "err", err)
		}
		s.view.failed(cl, now, err)
		return
	}
	if st := s.view.clusterStatus(cl); st.Stale {
		log.Info("Slurm answers again", "down_for", now.Sub(st.Since).Round(time.Second))
	}
	byTask := make(map[string]slurm.Job, len(jobs))
	for _, t := range tasks {
		if j, ok := jobs[t.JobID]; ok && j.Err == nil {
			byTask[t.ID] = j
		}
	}
	s.view.ok(cl, now, byTask)
	for _, t := range tasks {
		job, known := jobs[t.JobID]
		if known && job.Err != nil {
			// Only this job's record did not read: its task keeps its
			// state until one does.
			log.Warn("cannot read Slurm's record of the job; the task keeps its state", "task_id", t.ID, "job_id", t.JobID, "err", job.Err)
			continue
		}
		if err := s.apply(ctx, t, job, known); err != nil && !errors.Is(err, store.ErrNotFound) {
			log.Error("reconcile task", "task_id", t.ID, "err", err)
		}
	}
}
