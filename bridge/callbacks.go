package bridge

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/mux"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/proxy"
)

// callbackTask authenticates a launcher callback by the task's secret.
func (s *Server) callbackTask(w http.ResponseWriter, r *http.Request) (*store.Task, bool) {
	t, err := s.store.GetTask(r.Context(), mux.Vars(r)["id"])
	secret := r.Header.Get(jobspec.SecretHeader)
	if err != nil || secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(t.Secret)) != 1 {
		writeError(w, http.StatusForbidden, "bad task secret")
		return nil, false
	}
	return t, true
}

// handleReady registers a notebook's address once Jupyter answers. The
// node must be part of the task's own allocation. In direct mode the host
// comes from Slurm's record of the node, and the server on the port must
// prove it is the task's launcher (checkProof) before anything is routed
// to it; in tunnel mode the launcher reports port 0 and is reached
// through the tunnel it opened (handleTunnel).
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	t, ok := s.callbackTask(w, r)
	if !ok {
		return
	}
	var req jobspec.ReadyRequest
	if !readJSON(w, r, &req) {
		return
	}
	if api.Terminal(t.State) || t.State == api.StateTerminating {
		writeError(w, http.StatusConflict, "task is "+api.StateName(t.State))
		return
	}
	tunnelled := t.ProxyMode == jobspec.ProxyModeTunnel
	switch {
	case tunnelled && req.Port != 0:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("the task is in tunnel mode: its launcher holds no port, yet reports port %d", req.Port))
		return
	case !tunnelled && (req.Port <= 0 || req.Port > 65535):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("port %d out of range", req.Port))
		return
	}
	jobs, err := s.slurmOf(t.Cluster).Query(r.Context(), []string{t.JobID})
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "cannot confirm the allocation with Slurm: "+err.Error())
		return
	}
	job, known := jobs[t.JobID]
	if known && job.Err != nil {
		writeError(w, http.StatusServiceUnavailable, "cannot confirm the allocation with Slurm: "+job.Err.Error())
		return
	}
	if known && job.NodesErr != nil {
		s.log.Error("cannot read the job's node list from Slurm", "task_id", t.ID, "job_id", t.JobID, "err", job.NodesErr)
		writeError(w, http.StatusServiceUnavailable, "cannot confirm the allocation with Slurm: "+job.NodesErr.Error())
		return
	}
	if !known || !slices.Contains(job.Nodes, req.Node) {
		s.log.Warn("ready callback from a node outside the allocation", "task_id", t.ID, "node", req.Node)
		writeError(w, http.StatusForbidden, fmt.Sprintf("node %q is not part of job %s's allocation", req.Node, t.JobID))
		return
	}
	host := ""
	if nodes, err := s.clusterNodes(r.Context(), t.Cluster); err == nil {
		for _, n := range nodes {
			if n.Name == req.Node {
				host = n.Addr
			}
		}
	}
	if host == "" {
		host = req.Node
	}
	switch {
	case tunnelled:
		// The tunnel itself is the proof: only the task's secret, from
		// one of the task's nodes, opens it.
	case t.ProofKey == "":
		s.log.Warn("task submitted before port proofs; routing without one", "task_id", t.ID)
	default:
		if err := s.checkPort(r, t, host, req.Port); err != nil {
			s.log.Warn("ready callback names a port that does not prove to be the task's launcher; not routed",
				"task_id", t.ID, "node", req.Node, "port", req.Port, "err", err)
			code := http.StatusBadGateway
			if errors.Is(err, errProofWrong) {
				code = http.StatusForbidden
			}
			writeError(w, code, fmt.Sprintf("port %d on %s: %v", req.Port, req.Node, err))
			return
		}
	}
	s.routes.Touch(t.ID) // idle time counts from the moment Jupyter is reachable
	msg := fmt.Sprintf("Jupyter is running on %s; open %s/proxy/%s/", req.Node, s.cfg.ExternalURL, t.ID)
	reason := s.readyReason(r.Context(), t, req.Node, req.Port)
	u := store.Update{State: api.StateRunning, Reason: reason, Node: req.Node, Host: host, Port: req.Port}
	from, err := s.recordReady(r.Context(), t, u, msg)
	if err != nil {
		var ue *userError
		if errors.As(err, &ue) {
			writeError(w, ue.code, ue.msg)
			return
		}
		s.internal(w, "record ready", err)
		return
	}
	if from == api.StateQueued {
		// The job ran and reported before the reconciler saw it start.
		s.jobStarted(t.Pool, queuedFor(t, job.StartTime, time.Now()))
	}
	s.metrics.Ready(t.Pool, time.Since(queuedSince(t)))
	w.WriteHeader(http.StatusNoContent)
}

// recordReady moves t to RUNNING with u. The move applies only while the
// task is in the state last read, so it never undoes a kill that came
// meanwhile; a race with the reconciler's own move (QUEUED to STARTING)
// reads the task again and retries. It returns the state the task left.
func (s *Server) recordReady(ctx context.Context, t *store.Task, u store.Update, msg string) (string, error) {
	for attempt := 1; ; attempt++ {
		from := t.State
		u.From = []string{from}
		err := s.update(ctx, t, u, msg)
		if !errors.Is(err, store.ErrNotFound) {
			return from, err
		}
		cur, err := s.store.GetTask(ctx, t.ID)
		if err != nil {
			return "", fmt.Errorf("read the task again: %w", err)
		}
		switch {
		case api.Terminal(cur.State) || cur.State == api.StateTerminating:
			return "", &userError{code: http.StatusConflict, msg: "task is " + api.StateName(cur.State)}
		case attempt == 3:
			return "", &userError{code: http.StatusServiceUnavailable, msg: "the task's state keeps changing; report again"}
		}
		*t = *cur
	}
}

// checkPort runs the proof of a reported port.
func (s *Server) checkPort(r *http.Request, t *store.Task, host string, port int) error {
	prove := s.prove
	if prove == nil {
		prove = checkProof
	}
	return prove(r.Context(), host, port, t.ID, t.ProofKey)
}

// handleExit records the notebook server's exit code; Slurm's view of the
// job decides when the task ends.
func (s *Server) handleExit(w http.ResponseWriter, r *http.Request) {
	t, ok := s.callbackTask(w, r)
	if !ok {
		return
	}
	var req jobspec.ExitRequest
	if !readJSON(w, r, &req) {
		return
	}
	_ = s.store.AddEvent(r.Context(), t.ID, fmt.Sprintf("notebook server ended with code %d: %s", req.ExitCode, req.Message))
	// Its port is free now: route nothing there until the task ends (an
	// ended task's route is the reconciler's, and goes in time).
	if !api.Terminal(t.State) {
		s.routes.Set(t.ID, proxy.Route{Token: t.JupyterToken, Owner: t.Owner, State: t.State, Reason: "the notebook server has ended"})
		s.tunnels.Forget(t.ID) // nothing is behind it now
	}
	s.poke()
	w.WriteHeader(http.StatusNoContent)
}
