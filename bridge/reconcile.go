package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/jobdir"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/proxy"
	"github.com/det-slurm/bridge/slurm"
)

// walltimeWarning is how long before its time limit a notebook's logs get
// a warning.
const walltimeWarning = 10 * time.Minute

// apply moves one task to the state its job is in.
func (s *Server) apply(ctx context.Context, t *store.Task, job slurm.Job, known bool) error {
	if !known {
		// squeue has forgotten the job: accounting knows how it ended, where
		// the cluster keeps it; else the launcher's exit record tells.
		state, _, err := s.slurmOf(t.Cluster).Finished(ctx, t.JobID)
		if err != nil && !errors.Is(err, slurm.ErrNoAccounting) {
			s.log.Warn("sacct", "job_id", t.JobID, "err", err)
		}
		return s.finish(ctx, t, state)
	}
	active := pendingStates[job.State] || job.State == "RUNNING" || job.State == "CONFIGURING"
	if t.State == api.StateTerminating {
		if active && s.view.cancelDue(t.ID, time.Now()) {
			// The kill was asked for while the controller did not answer, or
			// was lost: send it again.
			if err := s.slurmOf(t.Cluster).Cancel(ctx, t.JobID); err != nil {
				s.log.Warn("cancel job", "task_id", t.ID, "job_id", t.JobID, "err", err)
			}
		}
		if active || job.State == "COMPLETING" {
			return nil
		}
		return s.finish(ctx, t, job.State)
	}
	switch {
	case requeuedJob(t, job):
		return s.requeued(ctx, t, job)
	case pendingStates[job.State] && waitingAfterPreemption(t):
		return nil // the preemption's reason stays until the job runs
	}
	switch job.State {
	case "PENDING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "SUSPENDED":
		reason := job.Reason
		if reason == "None" {
			reason = ""
		}
		reason = slurm.ExplainPending(reason, job.QOS)
		if reason == t.Reason && t.State == api.StateQueued {
			return nil
		}
		msg := "waiting in the Slurm queue"
		if reason != "" {
			msg += ": " + reason
		}
		if !job.StartTime.IsZero() && job.StartTime.Before(time.Now().AddDate(1, 0, 0)) {
			msg += "; estimated start " + job.StartTime.Format(time.RFC3339)
		}
		return s.update(ctx, t, store.Update{State: api.StateQueued, Reason: reason, From: []string{t.State}}, msg)
	case "RUNNING", "CONFIGURING":
		if job.State == "RUNNING" && job.TimeLeft >= 0 {
			s.watchEnd(ctx, t, job.TimeLeft)
		}
		if t.State != api.StateQueued {
			return nil
		}
		node := strings.Join(job.Nodes, ",")
		if job.NodesErr != nil {
			node = job.NodeList
		}
		wait := queuedFor(t, job.StartTime, time.Now())
		if err := s.update(ctx, t, store.Update{State: api.StateStarting, Node: node, From: []string{t.State}}, "job started on "+node+"; waiting for Jupyter"); err != nil {
			return err
		}
		s.jobStarted(t.Pool, wait)
		return nil
	case "COMPLETING", "STOPPED", "RESIZING", "SIGNALING", "STAGE_OUT":
		return nil
	case "PREEMPTED":
		if s.requeuesOnPreemption(t) {
			return nil // Slurm queues it again; if it does not, the job's end tells
		}
	}
	return s.finish(ctx, t, job.State)
}

// finish marks a task TERMINATED with the reason its job's final state and
// the launcher's exit record give. Like every change the reconciler makes,
// it applies only while the task is still in the state the reconciler read
// before asking Slurm; a change made meanwhile (a ready callback, a kill)
// stands, and the next tick decides again.
func (s *Server) finish(ctx context.Context, t *store.Task, state string) error {
	rec, hasRec := readExitRecord(t.JobDir)
	var code *int
	if hasRec {
		code = &rec.ExitCode
	}
	reason := ""
	switch {
	case t.State == api.StateTerminating && t.Reason != "":
		reason = t.Reason
	case state == "CANCELLED":
		reason = "cancelled outside the bridge"
	case state == "TIMEOUT" || state == "DEADLINE":
		reason = "time limit"
	case state == "NODE_FAIL":
		reason = "node failure"
	case state == "PREEMPTED":
		reason = "preempted"
	case state == "OUT_OF_MEMORY":
		reason = "out of memory"
	case hasRec && strings.HasPrefix(rec.Message, "startup hook exited"):
		reason = rec.Message
	case t.State != api.StateRunning:
		reason = "failed to start"
		if tail := lastLines(t.JobDir, "output.log", 5); tail != "" {
			reason += ": " + tail
		}
	case hasRec:
		reason = fmt.Sprintf("exited with code %d", rec.ExitCode)
	default:
		reason = "job ended (" + strings.ToLower(state) + ")"
		if state == "" {
			reason = "job ended"
		}
	}
	return s.update(ctx, t, store.Update{State: api.StateTerminated, Reason: reason, ExitCode: code, From: []string{t.State}}, "terminated: "+reason)
}

// update writes a state change and mirrors it in the proxy's routes.
func (s *Server) update(ctx context.Context, t *store.Task, u store.Update, msg string) error {
	if err := s.store.UpdateTask(ctx, t.ID, u, msg); err != nil {
		return err
	}
	if u.State != "" {
		t.State = u.State
	}
	t.Reason = u.Reason
	if u.Host != "" {
		t.Host, t.Port = u.Host, u.Port
	}
	if u.Node != "" {
		t.Node = u.Node
	}
	s.setRoute(t)
	if t.State == api.StateTerminated {
		s.forgetTask(t.ID, time.Now())
		s.tokens.clear()
		if err := s.store.RevokeTaskTokens(ctx, t.ID); err != nil {
			s.log.Error("revoke the task's tokens", "task_id", t.ID, "err", err)
		}
	}
	s.log.Info("task state", "task_id", t.ID, "state", t.State, "reason", t.Reason)
	return nil
}

// setRoute mirrors a task in the proxy's route table.
func (s *Server) setRoute(t *store.Task) {
	r := proxy.Route{Token: t.JupyterToken, Owner: t.Owner, State: t.State, Reason: t.Reason}
	switch {
	case t.State != api.StateRunning:
	case t.ProxyMode == jobspec.ProxyModeTunnel:
		r = s.tunnelRoute(t, r)
	case t.Host != "":
		r.Target = &url.URL{Scheme: "http", Host: fmt.Sprintf("%s:%d", t.Host, t.Port)}
		r.Prove = routeProof(t.ID, t.ProofKey, t.Port)
	}
	s.routes.Set(t.ID, r)
}

// kill ends a task at its user's request, in any state: a task with a job
// has the job cancelled (the reconciler records the end, keeping the
// reason); one without a job ends at once, and a job its running submit
// queues is cancelled by that submit.
func (s *Server) kill(ctx context.Context, t *store.Task) error {
	if api.Terminal(t.State) {
		return nil
	}
	if t.JobID == "" {
		if s.submitting.kill(t.ID) {
			err := s.update(ctx, t, store.Update{State: api.StateTerminated, Reason: reasonKilled}, "kill requested by user while the job was being queued")
			if errors.Is(err, store.ErrNotFound) {
				return nil // its submit failed and ended it first
			}
			return err
		}
		// Its submit may have recorded the job since t was read.
		cur, err := s.store.GetTask(ctx, t.ID)
		if err != nil {
			return err
		}
		if api.Terminal(cur.State) {
			return nil
		}
		t = cur
	}
	return s.stop(ctx, t, reasonKilled, "kill requested by user")
}

// stop marks a task TERMINATING with reason and cancels its job; the
// reconciler records the end, keeping the reason. A task without a job
// ends TERMINATED at once.
func (s *Server) stop(ctx context.Context, t *store.Task, reason, event string) error {
	if t.JobID == "" {
		return s.endWithoutJob(ctx, t, reason, event+"; the task had no Slurm job")
	}
	if err := s.update(ctx, t, store.Update{State: api.StateTerminating, Reason: reason}, event); err != nil {
		return err
	}
	s.view.cancelDue(t.ID, time.Now())
	if err := s.slurmOf(t.Cluster).Cancel(ctx, t.JobID); err != nil {
		// The reconciler sends it again once the controller answers.
		s.log.Warn("cancel job; will retry", "task_id", t.ID, "job_id", t.JobID, "err", err)
		_ = s.store.AddEvent(ctx, t.ID, "Slurm did not answer the cancel; it is sent again once the controller answers")
		return nil
	}
	s.poke()
	return nil
}

func readExitRecord(jobDir string) (jobspec.ExitRecord, bool) {
	var rec jobspec.ExitRecord
	data, err := jobdir.ReadFile(jobDir, "exit.json", 64<<10)
	if err != nil || json.Unmarshal(data, &rec) != nil {
		return rec, false
	}
	return rec, true
}

// lastLines returns up to n last non-empty lines of a file of the job
// folder, joined by " | ".
func lastLines(dir, name string, n int) string {
	f, err := jobdir.Open(dir, name)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 16 << 10
	if st, err := f.Stat(); err == nil && st.Size() > max {
		_, _ = f.Seek(st.Size()-max, 0)
	}
	buf := make([]byte, max)
	k, _ := f.Read(buf)
	var lines []string
	for _, l := range strings.Split(string(buf[:k]), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
