package bridge

import (
	"encoding/json"
	"net/http"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/taskconfig"
)

// maxLaunchBody bounds a launch request: the files' contents in base64
// and room for the config and the entries' other fields.
const maxLaunchBody = taskconfig.MaxContextBytes*4/3 + 32<<20

// handleLaunch answers POST /notebooks or /shells (Determined's
// LaunchNotebook and LaunchShell): it starts a task of type typ, or with
// preview only shows the merged config. Determined's CLI sends the body
// without a Content-Type and with explicit nulls; both are taken.
func (s *Server) handleLaunch(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.launch(w, r, typ) }
}

func (s *Server) launch(w http.ResponseWriter, r *http.Request, typ string) {
	var req api.LaunchRequest
	if !readJSONLimit(w, r, &req, maxLaunchBody) {
		return
	}
	archive, err := checkLaunch(&req)
	if err != nil {
		s.fail(w, "launch "+typ, err)
		return
	}
	req.Files = nil // the archive holds them now
	if req.Preview {
		s.preview(w, r, typ, req.Config)
		return
	}
	u := currentUser(r)
	t, err := s.submit(r.Context(), u, typ, req.Config, archive, "")
	if err != nil {
		s.fail(w, "launch "+typ, err)
		return
	}
	s.auditRequest(r, api.AuditTaskStart, u.Username, t.ID, taskDetail(t))
	writeLaunched(w, typ, s.toShell(t, u.Username), configJSON(t.Config))
}

// checkLaunch refuses what the bridge does not support (templates,
// workspaces but the one) and returns the files as the archive the job
// unpacks.
func checkLaunch(req *api.LaunchRequest) ([]byte, error) {
	for name, v := range map[string]*string{"templateName": req.TemplateName, "template_name": req.LegacyTemplateName} {
		if v != nil && *v != "" {
			return nil, badRequest("%s: templates are not supported by this bridge; give the settings with --config-file or --config", name)
		}
	}
	if req.WorkspaceID != nil {
		if err := checkWorkspace(int64(*req.WorkspaceID)); err != nil {
			return nil, err
		}
	}
	archive, err := taskconfig.ArchiveFiles(req.Files)
	if err != nil {
		return nil, badRequest("files: %v", err)
	}
	return archive, nil
}

// preview answers a launch with preview: the task it would be and its
// merged config; nothing is submitted. The task has no id and the state
// STATE_UNSPECIFIED.
func (s *Server) preview(w http.ResponseWriter, r *http.Request, typ string, userCfg map[string]any) {
	cfg, pool, err := s.resolveConfig(userCfg)
	if err == nil {
		err = s.checkBindPrefixes(cfg)
	}
	if err != nil {
		s.fail(w, "preview config", err)
		return
	}
	describe(typ, userCfg, cfg)
	u := currentUser(r)
	uid := u.ID
	nb := api.Notebook{
		Description: cfg.Description, State: api.StateUnspecified, Username: u.Username, UserID: &uid,
		ResourcePool: pool.Name, WorkspaceID: api.DefaultWorkspaceID, Slots: cfg.SlotCount(),
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		s.internal(w, "preview config", err)
		return
	}
	writeLaunched(w, typ, api.Shell{Notebook: nb}, data)
}

// writeLaunched answers a launch with Determined's LaunchNotebookResponse
// or LaunchShellResponse (a notebook shows sh.Notebook).
func writeLaunched(w http.ResponseWriter, typ string, sh api.Shell, cfg json.RawMessage) {
	if typ == typeShell {
		writeJSON(w, http.StatusOK, api.LaunchShellResponse{Shell: sh, Config: cfg, Warnings: []string{}})
		return
	}
	writeJSON(w, http.StatusOK, api.LaunchNotebookResponse{Notebook: sh.Notebook, Config: cfg, Warnings: []string{}})
}
