package bridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"reflect"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/jobdir"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/taskconfig"
)

// Relaunching an ended notebook starts a new one with the ended one's
// config, pool and context files (the archive kept in its job folder),
// as its owner; the new one names the one it replaces.

// maxContextArchive bounds the context archive read back from a job
// folder: the contents' limit and room for the archive's own overhead.
const maxContextArchive = taskconfig.MaxContextBytes + 16<<20

// handleRelaunch answers POST /notebooks/{id}/relaunch or
// /shells/{id}/relaunch.
func (s *Server) handleRelaunch(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		old, ok := s.find(w, r, typ)
		if !ok {
			return
		}
		u := currentUser(r)
		if old.Owner != u.Username {
			// An admin may see it, but the new task would run the owner's
			// context files (a startup hook among them) as the admin.
			writeError(w, http.StatusForbidden, fmt.Sprintf("%s %s belongs to %s: only its owner can relaunch it", typ, old.ID, old.Owner))
			return
		}
		if !api.Terminal(old.State) {
			writeError(w, http.StatusConflict, fmt.Sprintf("%s %s is %s: only an ended one can be relaunched (kill it first)", typ, old.ID, api.StateName(old.State)))
			return
		}
		userCfg, err := s.relaunchConfig(old)
		if err != nil {
			s.internal(w, "relaunch "+typ, err)
			return
		}
		archive, warnings := s.relaunchContext(old)
		t, err := s.submit(r.Context(), u, typ, userCfg, archive, old.ID)
		if err != nil {
			s.fail(w, "relaunch "+typ, err)
			return
		}
		s.auditRequest(r, api.AuditTaskStart, u.Username, t.ID, taskDetail(t)+", relaunch of "+old.ID)
		_ = s.store.AddEvent(r.Context(), old.ID, fmt.Sprintf("relaunched by %s as %s", u.Username, t.ID))
		msg := fmt.Sprintf("relaunch of %s %s, with its config and pool", typ, old.ID)
		if len(archive) > 0 {
			msg += " and its context files"
		}
		for _, warn := range warnings {
			msg += "; " + warn
		}
		_ = s.store.AddEvent(r.Context(), t.ID, msg)
		nb, cfg := s.toAPI(t), configJSON(t.Config)
		if warnings == nil {
			warnings = []string{}
		}
		if typ == typeShell {
			writeJSON(w, http.StatusOK, api.RelaunchShellResponse{Shell: s.toShell(t, currentUser(r).Username), Config: cfg, Warnings: warnings, Replaces: old.ID})
			return
		}
		writeJSON(w, http.StatusOK, api.RelaunchNotebookResponse{Notebook: nb, Config: cfg, Warnings: warnings, Replaces: old.ID})
	}
}

// relaunchConfig is an ended task's merged config as a launch's config.
// It is merged again under the site's and the pool's defaults, so the
// bind mounts those add are taken out of it first (they would add up),
// and where no image is run the image they named is dropped.
func (s *Server) relaunchConfig(t *store.Task) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(t.Config), &m); err != nil {
		return nil, fmt.Errorf("read the stored config of %s: %w", t.ID, err)
	}
	if m == nil {
		m = map[string]any{}
	}
	if !s.cfg.ContainerRuntime.Capabilities().Isolated {
		if env, ok := m["environment"].(map[string]any); ok {
			delete(env, "image")
		}
	}
	if pool, ok := s.cfg.Pool(t.Pool); ok {
		base, err := taskconfig.Decode(taskconfig.Merge(taskconfig.Merge(s.cfg.TaskContainerDefaults, nil), pool.Defaults))
		if err == nil && len(base.BindMounts) > 0 {
			m["bind_mounts"] = withoutDefaultBinds(m["bind_mounts"], base.BindMounts)
		}
	}
	return m, nil
}

// withoutDefaultBinds takes the defaults' bind mounts from the front of a
// stored config's list, where the merge put them.
func withoutDefaultBinds(stored any, defaults []taskconfig.BindMount) any {
	list, ok := stored.([]any)
	if !ok || len(list) < len(defaults) {
		return stored
	}
	for i, d := range defaults {
		data, err := json.Marshal(list[i])
		var b taskconfig.BindMount
		if err != nil || json.Unmarshal(data, &b) != nil || !reflect.DeepEqual(b, d) {
			return stored
		}
	}
	return append([]any{}, list[len(defaults):]...)
}

// relaunchContext reads the context archive of an ended task from its job
// folder (nil when it had none), and says what could not be carried over.
func (s *Server) relaunchContext(t *store.Task) ([]byte, []string) {
	data, err := jobdir.ReadFile(t.JobDir, "context.tar.gz", maxContextArchive)
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, fs.ErrNotExist) && !t.HasContext:
		return nil, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, []string{fmt.Sprintf("the context files of %s are gone (its job folder %s was cleaned up): the new %s starts without them", t.ID, t.JobDir, t.Type)}
	default:
		s.log.Warn("cannot read the context archive of an ended task", "task_id", t.ID, "err", err)
		return nil, []string{fmt.Sprintf("the context files of %s cannot be read (%v): the new %s starts without them", t.ID, err, t.Type)}
	}
}
