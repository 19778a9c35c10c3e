package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

// Extending a running notebook raises its job's time limit in Slurm
// within its pool's policy: max_walltime bounds the new limit, and
// max_extensions how often one notebook may be extended. Only a Slurm
// operator (or administrator, SlurmUser, root) may raise a running job's
// limit, so the bridge's own Slurm identity does it, after its checks.

// maxExtendBy bounds one extension, whatever the pool allows.
const maxExtendBy = 365 * 24 * time.Hour

// parseExtendBy reads an extension: a Go duration ("1h", "90m") or whole
// minutes ("30"), rounded up to whole minutes (Slurm's resolution).
func parseExtendBy(by string) (time.Duration, error) {
	by = strings.TrimSpace(by)
	if by == "" {
		return 0, badRequest(`by: required: the time to add, e.g. "1h" or "30m"`)
	}
	d, err := time.ParseDuration(by)
	if err != nil {
		n, nerr := strconv.Atoi(by)
		if nerr != nil {
			return 0, badRequest("by: %q is not a duration (e.g. 1h, 90m, or minutes: 30)", by)
		}
		d = time.Duration(n) * time.Minute
	}
	switch {
	case d <= 0:
		return 0, badRequest("by: %q adds no time", by)
	case d > maxExtendBy:
		return 0, badRequest("by: %q is more than a year", by)
	}
	return time.Duration(slurm.Minutes(d)) * time.Minute, nil
}

// handleExtend answers POST /notebooks/{id}/extend or /shells/{id}/extend.
func (s *Server) handleExtend(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, ok := s.find(w, r, typ)
		if !ok {
			return
		}
		var req api.ExtendRequest
		if !readJSON(w, r, &req) {
			return
		}
		ext, err := s.extend(r.Context(), t, req.By, currentUser(r).Username)
		if err != nil {
			s.fail(w, "extend "+typ, err)
			return
		}
		cur, err := s.store.GetTask(r.Context(), t.ID)
		if err != nil {
			s.internal(w, "extend "+typ, err)
			return
		}
		if typ == typeShell {
			writeJSON(w, http.StatusOK, api.ExtendShellResponse{Shell: s.toShell(cur, currentUser(r).Username), Extension: *ext})
			return
		}
		writeJSON(w, http.StatusOK, api.ExtendNotebookResponse{Notebook: s.toAPI(cur), Extension: *ext})
	}
}

// extend adds by to a running task's time limit, within its pool's
// policy; who asked is named in the task's logs. A refusal changes
// nothing and names the rule that refused it.
func (s *Server) extend(ctx context.Context, t *store.Task, by, who string) (*api.Extension, error) {
	add, err := parseExtendBy(by)
	if err != nil {
		return nil, err
	}
	if t.State != api.StateRunning && t.State != api.StateStarting {
		return nil, &userError{code: http.StatusConflict, msg: fmt.Sprintf("%s %s is %s: only a running one can be extended", t.Type, t.ID, api.StateName(t.State))}
	}
	pool, ok := s.cfg.Pool(t.Pool)
	if !ok {
		return nil, &userError{code: http.StatusConflict, msg: fmt.Sprintf("pool %s of %s %s is no longer in the site config", t.Pool, t.Type, t.ID)}
	}
	if pool.MaxWalltimeLimit == 0 {
		return nil, badRequest("max_walltime: pool %s allows no extensions (its site config sets no max_walltime)", pool.Name)
	}
	// One extension at a time: the count and the limit are read, checked
	// and raised together.
	s.extendMu.Lock()
	defer s.extendMu.Unlock()
	cur, err := s.store.GetTask(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	if pool.MaxExtensions > 0 && cur.Extensions >= pool.MaxExtensions {
		return nil, badRequest("max_extensions: %s %s has been extended %d times, as often as pool %s allows", t.Type, t.ID, cur.Extensions, pool.Name)
	}
	lim, err := s.slurmOf(t.Cluster).TimeLimit(ctx, t.JobID)
	switch {
	case errors.Is(err, slurm.ErrJobGone):
		return nil, &userError{code: http.StatusConflict, msg: fmt.Sprintf("Slurm no longer knows job %s of %s %s", t.JobID, t.Type, t.ID), err: err}
	case err != nil:
		return nil, &userError{code: http.StatusServiceUnavailable, msg: "cannot read the job's time limit from Slurm: " + err.Error(), err: err}
	case lim.State != "RUNNING":
		return nil, &userError{code: http.StatusConflict, msg: fmt.Sprintf("job %s of %s %s is %s in Slurm: only a running job can be extended", t.JobID, t.Type, t.ID, lim.State)}
	case lim.Limit < 0:
		return nil, &userError{code: http.StatusConflict, msg: fmt.Sprintf("job %s of %s %s has no time limit: there is nothing to extend", t.JobID, t.Type, t.ID)}
	}
	want := lim.Limit + add
	if want > pool.MaxWalltimeLimit {
		room := "no more time"
		if left := pool.MaxWalltimeLimit - lim.Limit; left >= time.Minute {
			room = "at most " + minutesText(left) + " more"
		}
		return nil, badRequest("max_walltime: %s more would make the time limit %s, above pool %s's max_walltime of %s (%s)",
			minutesText(add), slurm.FormatTimeLimit(want), pool.Name, slurm.FormatTimeLimit(pool.MaxWalltimeLimit), room)
	}
	if err := s.raiseLimit(ctx, s.slurmOf(t.Cluster), t.JobID, want); err != nil {
		return nil, err
	}
	n, err := s.store.AddExtension(ctx, t.ID, fmt.Sprintf("time limit raised by %s, from %s to %s, at the request of %s (%s)",
		minutesText(add), slurm.FormatTimeLimit(lim.Limit), slurm.FormatTimeLimit(want), who, extensionCount(cur.Extensions+1, pool)))
	if err != nil {
		return nil, err
	}
	s.refreshJob(ctx, t)
	s.log.Info("time limit raised", "task_id", t.ID, "job_id", t.JobID, "limit", want, "by", who)
	return &api.Extension{
		AddedSeconds: int64(add / time.Second), TimeLimitSeconds: int64(want / time.Second), Extensions: n,
		MaxExtensions: pool.MaxExtensions, MaxWalltimeSeconds: int64(pool.MaxWalltimeLimit / time.Second),
	}, nil
}

// raiseLimit sets a job's time limit and reads it back.
func (s *Server) raiseLimit(ctx context.Context, sl Slurm, jobID string, want time.Duration) error {
	if err := sl.SetTimeLimit(ctx, jobID, want); err != nil {
		msg := "Slurm refused to raise the time limit of job " + jobID + ": " + err.Error()
		var se slurm.Said
		if errors.As(err, &se) && strings.Contains(strings.ToLower(se.Said()), "denied") {
			msg += "; the bridge's Slurm user must be a Slurm operator or administrator (sacctmgr modify user NAME set adminlevel=operator)"
		}
		return &userError{code: http.StatusBadGateway, msg: msg, err: err}
	}
	back, err := sl.TimeLimit(ctx, jobID)
	if err != nil {
		return &userError{code: http.StatusBadGateway, msg: "the time limit of job " + jobID + " was set, but cannot be read back from Slurm: " + err.Error(), err: err}
	}
	if back.Limit != want {
		return &userError{code: http.StatusBadGateway, msg: fmt.Sprintf("Slurm shows the time limit of job %s as %s after it was set to %s", jobID, slurm.FormatTimeLimit(back.Limit), slurm.FormatTimeLimit(want))}
	}
	return nil
}

// extensionCount says which extension n is, against the pool's bound.
func extensionCount(n int, pool *siteconfig.Pool) string {
	if pool.MaxExtensions == 0 {
		return fmt.Sprintf("extension %d", n)
	}
	return fmt.Sprintf("extension %d of %d", n, pool.MaxExtensions)
}

// refreshJob reads a task's job again, so the API shows its new time
// remaining at once, and the walltime warning moves with the new end.
func (s *Server) refreshJob(ctx context.Context, t *store.Task) {
	jobs, err := s.slurmOf(t.Cluster).Query(ctx, []string{t.JobID})
	if err != nil {
		return // the next tick reads it
	}
	if j, ok := jobs[t.JobID]; ok && j.Err == nil {
		s.view.setJob(t.Cluster, t.ID, j)
		if j.TimeLeft >= walltimeWarning {
			s.view.unwarn(t.ID)
		}
	}
}

// minutesText writes whole minutes as people say them: "45m", "1h",
// "1h30m", "2d3h".
func minutesText(d time.Duration) string {
	m := int64(d / time.Minute)
	days, h, mins := m/(24*60), m%(24*60)/60, m%60
	var b strings.Builder
	if days > 0 {
		fmt.Fprintf(&b, "%dd", days)
	}
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if mins > 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%dm", mins)
	}
	return b.String()
}
