package bridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/taskconfig"
)

const (
	typeNotebook = jobspec.KindNotebook
	typeShell    = jobspec.KindShell
)

// toAPI is a task as the API shows it (Determined's v1Notebook or v1Shell
// and the bridge's own fields).
func (s *Server) toAPI(t *store.Task) api.Notebook {
	nb := api.Notebook{
		ID: t.ID, Description: t.Description, State: t.State, StartTime: t.RegisteredTime.UTC(), Username: t.Owner,
		ResourcePool: t.Pool, JobID: t.ID, WorkspaceID: api.DefaultWorkspaceID, ServiceAddress: "/proxy/" + t.ID + "/",
		SlurmJobID: t.JobID, Slots: t.Slots, Node: t.Node, Reason: t.Reason, ExitCode: t.ExitCode,
		Restarts: t.Restarts, Extensions: t.Extensions, Replaces: t.Replaces, Cluster: s.clusterOf(t),
	}
	if !t.PreemptedTime.IsZero() {
		at := t.PreemptedTime.UTC()
		nb.PreemptedTime = &at
	}
	if t.OwnerID != 0 {
		id := t.OwnerID
		nb.UserID = &id
	}
	if api.Terminal(t.State) {
		nb.ExitStatus = t.Reason
	}
	nb.Unreachable = s.unreachable(t)
	if j, ok := s.view.job(t.ID); ok && !api.Terminal(t.State) {
		if t.State == api.StateQueued && !j.StartTime.IsZero() && j.StartTime.Before(time.Now().AddDate(1, 0, 0)) {
			st := j.StartTime.UTC()
			nb.EstimatedStart = &st
		}
		if j.State == "RUNNING" && j.TimeLeft >= 0 {
			left := int64(j.TimeLeft.Seconds())
			nb.TimeRemainingSeconds = &left
		}
	}
	return nb
}

// configJSON is a stored task config as the API shows it: with empty
// lists as [] (configs stored before had null).
func configJSON(stored string) json.RawMessage {
	var cfg taskconfig.Config
	if err := json.Unmarshal([]byte(stored), &cfg); err != nil {
		return json.RawMessage(stored)
	}
	out, err := json.Marshal(cfg)
	if err != nil {
		return json.RawMessage(stored)
	}
	return out
}

// handleGet answers GET /notebooks/{id} or /shells/{id}: the task and
// the merged config it runs with.
func (s *Server) handleGet(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, ok := s.find(w, r, typ)
		if !ok {
			return
		}
		nb, cfg := s.toAPI(t), configJSON(t.Config)
		if typ == typeShell {
			writeJSON(w, http.StatusOK, api.GetShellResponse{Shell: s.toShell(t, currentUser(r).Username), Config: cfg})
			return
		}
		writeJSON(w, http.StatusOK, api.GetNotebookResponse{Notebook: nb, Config: cfg})
	}
}

// handleKill kills a notebook or a shell; the kill of one that was not
// already ending goes to the audit trail.
func (s *Server) handleKill(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, ok := s.find(w, r, typ)
		if !ok {
			return
		}
		ending := api.Terminal(t.State) || t.State == api.StateTerminating
		if err := s.kill(r.Context(), t); err != nil {
			s.internal(w, "kill "+typ, err)
			return
		}
		if u := currentUser(r); !ending {
			s.jobCancelled(t.Pool, killReason(u, t))
			detail := taskDetail(t)
			if t.Owner != u.Username {
				detail += ", owner " + t.Owner
			}
			s.auditRequest(r, api.AuditTaskKill, u.Username, t.ID, detail)
		}
		id := t.ID
		t, err := s.store.GetTask(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no %s %q: its start failed, so there is nothing to kill", typ, id))
			return
		}
		if err != nil {
			s.internal(w, "kill "+typ, err)
			return
		}
		if typ == typeShell {
			writeJSON(w, http.StatusOK, api.KillShellResponse{Shell: api.Shell{Notebook: s.toAPI(t)}})
			return
		}
		writeJSON(w, http.StatusOK, api.KillNotebookResponse{Notebook: s.toAPI(t)})
	}
}

// lookup finds the task (of any type) a path's {id} names; see find.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*store.Task, bool) {
	return s.find(w, r, "")
}

// find finds the task of type typ ("" for any) that a path's {id} names
// (a full id or a unique prefix) among those the user may see. To a
// reader, others' tasks and tasks of another type are absent (404); an
// action on another's task by its full id is forbidden (403).
func (s *Server) find(w http.ResponseWriter, r *http.Request, typ string) (*store.Task, bool) {
	id := mux.Vars(r)["id"]
	noun := typ
	if noun == "" {
		noun = "task"
	}
	u := currentUser(r)
	visible := func(t *store.Task) bool { return u.Admin || t.Owner == u.Username }
	ofType := func(t *store.Task) bool { return typ == "" || t.Type == typ }
	t, err := s.store.GetTask(r.Context(), id)
	if err == nil && ofType(t) {
		if !visible(t) {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				writeError(w, http.StatusNotFound, fmt.Sprintf("%s not found: %s", noun, id))
			} else {
				writeError(w, http.StatusForbidden, fmt.Sprintf("%s %q belongs to another user", noun, id))
			}
			return nil, false
		}
		return t, true
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.internal(w, "look up task", err)
		return nil, false
	}
	cands, err := s.store.TasksByPrefix(r.Context(), id)
	if err != nil {
		s.internal(w, "look up task", err)
		return nil, false
	}
	var mine []*store.Task
	for _, c := range cands {
		if visible(c) && ofType(c) {
			mine = append(mine, c)
		}
	}
	switch {
	case len(mine) == 1 && len(id) >= 4:
		return mine[0], true
	case len(mine) > 1:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%q matches %d %ss; give more of the id", id, len(mine), noun))
	default:
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s not found: %s (give the id or a unique prefix of 4 or more characters)", noun, id))
	}
	return nil, false
}
