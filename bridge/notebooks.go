package bridge

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/det-slurm/bridge/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/taskconfig"
)

const (
	typeNotebook = api.KindNotebook
	typeShell    = api.KindShell
)

func (s *Server) toAPI(t *store.Task) api.Notebook {
	nb := api.Notebook{
		ID: t.ID, Description: t.Description, State: t.State, Reason: t.Reason, Owner: t.Owner,
		ResourcePool: t.Pool, Slots: t.Slots, RegisteredTime: t.RegisteredTime.UTC(), JobID: t.JobID,
		Node: t.Node, ExitCode: t.ExitCode,
		ServiceAddress: strings.TrimSuffix(s.cfg.ExternalURL, "/") + "/proxy/" + t.ID + "/",
	}
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

// handleStart starts a task of type typ (a notebook or a shell).
func (s *Server) handleStart(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.start(w, r, typ) }
}

func (s *Server) start(w http.ResponseWriter, r *http.Request, typ string) {
	var req api.NotebookRequest
	if !readJSONLimit(w, r, &req, taskconfig.MaxContextBytes*4/3+1<<20) {
		return
	}
	t, err := s.submit(r.Context(), currentUser(r), typ, req.Config, req.Context)
	if err != nil {
		var ue *userError
		if errors.As(err, &ue) {
			writeError(w, ue.code, ue.msg)
			return
		}
		s.internal(w, "start notebook", err)
		return
	}
	writeJSON(w, http.StatusCreated, s.toAPI(t))
}

// handleList lists the tasks of type typ the user may see.
func (s *Server) handleList(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.list(w, r, typ) }
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, typ string) {
	u := currentUser(r)
	owner := u.Username
	if u.Admin {
		owner = ""
	}
	tasks, err := s.store.ListTasks(r.Context(), typ, owner)
	if err != nil {
		s.internal(w, "list notebooks", err)
		return
	}
	out := api.NotebookList{Notebooks: make([]api.Notebook, 0, len(tasks))}
	for _, t := range tasks {
		out.Notebooks = append(out.Notebooks, s.toAPI(t))
	}
	writeJSON(w, http.StatusOK, out)
}

// lookup finds the task a path's {id} names (a full id or a unique prefix)
// among those the user may see. To a reader, others' tasks are absent
// (404); an action on another's task by its full id is forbidden (403).
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*store.Task, bool) {
	id := mux.Vars(r)["id"]
	u := currentUser(r)
	visible := func(t *store.Task) bool { return u.Admin || t.Owner == u.Username }
	t, err := s.store.GetTask(r.Context(), id)
	if err == nil {
		if !visible(t) {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				writeError(w, http.StatusNotFound, fmt.Sprintf("no notebook %q", id))
			} else {
				writeError(w, http.StatusForbidden, fmt.Sprintf("notebook %q belongs to another user", id))
			}
			return nil, false
		}
		return t, true
	}
	if !errors.Is(err, store.ErrNotFound) {
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
		if visible(c) {
			mine = append(mine, c)
		}
	}
	switch {
	case len(mine) == 1 && len(id) >= 4:
		return mine[0], true
	case len(mine) > 1:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%q matches %d notebooks; give more of the id", id, len(mine)))
	default:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no notebook %q (give the id or a unique prefix of 4 or more characters)", id))
	}
	return nil, false
}

func (s *Server) handleGetNotebook(w http.ResponseWriter, r *http.Request) {
	if t, ok := s.lookup(w, r); ok {
		writeJSON(w, http.StatusOK, s.toAPI(t))
	}
}

func (s *Server) handleKill(w http.ResponseWriter, r *http.Request) {
	t, ok := s.lookup(w, r)
	if !ok {
		return
	}
	if err := s.kill(r.Context(), t); err != nil {
		s.internal(w, "kill notebook", err)
		return
	}
	id := t.ID
	t, err := s.store.GetTask(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no notebook %q: its start failed, so there is nothing to kill", id))
		return
	}
	if err != nil {
		s.internal(w, "kill notebook", err)
		return
	}
	writeJSON(w, http.StatusOK, s.toAPI(t))
}

// handlePreview returns the merged config a start would use, and submits
// nothing.
func (s *Server) handlePreview(w http.ResponseWriter, r *http.Request) {
	var req api.NotebookRequest
	if !readJSON(w, r, &req) {
		return
	}
	cfg, _, err := s.resolveConfig(req.Config)
	if err == nil {
		err = s.checkBindPrefixes(cfg)
	}
	if err != nil {
		var ue *userError
		if errors.As(err, &ue) {
			writeError(w, ue.code, ue.msg)
			return
		}
		s.internal(w, "preview config", err)
		return
	}
	writeJSON(w, http.StatusOK, cfg)
}

// handleConfig returns the merged config a notebook ran with.
func (s *Server) handleConfig(w http.ResponseWriter, r *http.Request) {
	t, ok := s.lookup(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(t.Config))
}
