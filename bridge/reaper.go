package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/taskconfig"
)

// reports keeps the launchers' latest Jupyter reports, in memory: after a
// restart the next heartbeat, seconds away, refills it.
type reports struct {
	mu sync.Mutex
	m  map[string]report
}

type report struct {
	at  time.Time
	rep jobspec.JupyterReport
}

func (r *reports) set(id string, rep jobspec.JupyterReport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]report{}
	}
	r.m[id] = report{at: time.Now(), rep: rep}
}

func (r *reports) get(id string) (report, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[id]
	return v, ok
}

func (r *reports) drop(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, id)
}

// handleHeartbeat takes a launcher's report of its Jupyter's state.
func (s *Server) handleHeartbeat(w http.ResponseWriter, r *http.Request) {
	t, ok := s.callbackTask(w, r)
	if !ok {
		return
	}
	var rep jobspec.JupyterReport
	if !readJSON(w, r, &rep) {
		return
	}
	if api.Terminal(t.State) {
		writeError(w, http.StatusConflict, "task is "+api.StateName(t.State))
		return
	}
	s.reports.set(t.ID, rep)
	s.metrics.Heartbeat()
	w.WriteHeader(http.StatusNoContent)
}

// reap cancels the running notebooks that are idle, each in the audit
// trail.
func (s *Server) reap(ctx context.Context, now time.Time) {
	live, err := s.store.LiveTasks(ctx)
	if err != nil {
		s.log.Error("idle check: load tasks", "err", err)
		return
	}
	for _, t := range live {
		if t.State != api.StateRunning {
			continue
		}
		var cfg taskconfig.Config
		if err := json.Unmarshal([]byte(t.Config), &cfg); err != nil {
			continue
		}
		timeout, err := cfg.IdleTimeoutDuration()
		if err != nil || timeout == 0 {
			continue
		}
		in := s.idleInput(t, &cfg, timeout, now)
		if !DecideIdle(in) {
			continue
		}
		s.metrics.IdleCancelled(t.Pool, t.Slots, in.IdleFor())
		s.jobCancelled(t.Pool, cancelIdle)
		reason := "idle for more than " + cfg.IdleTimeout
		s.log.Info("notebook is idle; cancelling its job", "task_id", t.ID, "idle_timeout", cfg.IdleTimeout, "type", cfg.NotebookIdleType, "quiet", in.Quiet.Round(time.Millisecond), "report", reportSummary(in))
		err = s.stop(ctx, t, reason, fmt.Sprintf("no activity for %s (idle type %s): cancelling the job", cfg.IdleTimeout, cfg.NotebookIdleType))
		switch {
		case err == nil:
			s.audit(ctx, store.Audit{Action: api.AuditTaskCancel, Target: t.ID, Detail: taskDetail(t) + ": " + reason})
		case !errors.Is(err, store.ErrNotFound):
			s.log.Error("cancel idle notebook", "task_id", t.ID, "err", err)
		}
	}
}

// idleInput gathers what the idle decision looks at for a running task.
func (s *Server) idleInput(t *store.Task, cfg *taskconfig.Config, timeout time.Duration, now time.Time) IdleInput {
	last, _ := s.routes.LastActivity(t.ID)
	in := IdleInput{Timeout: timeout, Type: cfg.NotebookIdleType, Quiet: now.Sub(last), Now: now, ReportMaxAge: s.reportMaxAge(), Shell: t.Type == typeShell}
	if rep, ok := s.reports.get(t.ID); ok {
		in.Report, in.ReportAt = &rep.rep, rep.at
	}
	return in
}

// reportMaxAge is how old a heartbeat may be and still be believed.
func (s *Server) reportMaxAge() time.Duration {
	return 3*s.cfg.Heartbeat + 5*time.Second
}

// reportSummary tells, for the log, what Jupyter's last report said when a
// notebook was judged idle.
func reportSummary(in IdleInput) string {
	r := in.Report
	if r == nil {
		return "none"
	}
	if r.Error != "" {
		return "error: " + r.Error
	}
	var b strings.Builder
	fmt.Fprintf(&b, "age %s, activity %.1fs ago, %d terminals, %d sessions, kernels:", in.Now.Sub(in.ReportAt).Round(time.Millisecond), r.ActivityAgeSeconds, len(r.Terminals), r.Sessions)
	for _, k := range r.Kernels {
		fmt.Fprintf(&b, " %s/%d", k.ExecutionState, k.Connections)
	}
	return b.String()
}
