package bridge

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/det-slurm/bridge/api"
)

// handleWorkspaces answers GET /api/v1/workspaces (Determined's
// GetWorkspaces) with the bridge's one workspace, Uncategorized, when
// Determined's filters (name, nameCaseSensitive, archived, pinned, users,
// userIds) and the page select it.
func (s *Server) handleWorkspaces(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	offset, limit, ok := pageParams(w, q)
	if !ok {
		return
	}
	archived, err := queryBool(q, "archived")
	var pinned bool
	if err == nil {
		pinned, err = queryBool(q, "pinned")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ws := api.Uncategorized()
	match := !archived && !pinned && len(q["users"]) == 0 && len(q["userIds"]) == 0
	if n := q.Get("name"); n != "" && !strings.EqualFold(n, ws.Name) {
		match = false
	}
	if n := q.Get("nameCaseSensitive"); n != "" && n != ws.Name {
		match = false
	}
	list := []api.Workspace{}
	if match {
		list = append(list, ws)
	}
	pg := paginate(len(list), offset, limit)
	writeJSON(w, http.StatusOK, api.GetWorkspacesResponse{Workspaces: list[pg.StartIndex:pg.EndIndex], Pagination: pg})
}

// handleWorkspace answers GET /api/v1/workspaces/{id}.
func (s *Server) handleWorkspace(w http.ResponseWriter, r *http.Request) {
	raw := mux.Vars(r)["id"]
	id, err := strconv.Atoi(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("workspace id %q is not an integer", raw))
		return
	}
	if id != api.UncategorizedWorkspaceID {
		writeError(w, http.StatusNotFound, fmt.Sprintf("workspace %d not found (the bridge has one workspace, %d, Uncategorized)", id, api.UncategorizedWorkspaceID))
		return
	}
	writeJSON(w, http.StatusOK, api.GetWorkspaceResponse{Workspace: api.Uncategorized()})
}
