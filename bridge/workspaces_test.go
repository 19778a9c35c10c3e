package bridge

import (
	"net/http"
	"testing"
)

// TestWorkspaces: one workspace, Uncategorized (id 1, immutable), with
// v1Workspace's required fields, found by Determined's name filters as
// `det notebook start -w` and `det workspace list` look for it.
func TestWorkspaces(t *testing.T) {
	h := newHarness(t)
	kinds := map[string]string{"id": "number", "name": "string", "archived": "bool", "username": "string", "userId": "number",
		"immutable": "bool", "numProjects": "number", "numExperiments": "number", "pinned": "bool", "state": "string", "errorMessage": "string"}
	body := h.getJSON("/api/v1/workspaces")
	fieldKinds(t, "answer", body, map[string]string{"workspaces": "array", "pagination": "object"})
	list := body["workspaces"].([]any)
	if len(list) != 1 {
		t.Fatalf("workspaces %v", list)
	}
	ws := list[0].(map[string]any)
	fieldKinds(t, "workspace", ws, kinds)
	if ws["id"] != 1.0 || ws["name"] != "Uncategorized" || ws["immutable"] != true || ws["state"] != "WORKSPACE_STATE_UNSPECIFIED" {
		t.Errorf("workspace %v", ws)
	}
	pg := body["pagination"].(map[string]any)
	fieldKinds(t, "pagination", pg, map[string]string{"offset": "number", "limit": "number", "startIndex": "number", "endIndex": "number", "total": "number"})

	for q, want := range map[string]int{
		"name=uncategorized": 1, "nameCaseSensitive=Uncategorized": 1, "nameCaseSensitive=uncategorized": 0, "name=other": 0,
		"archived=true": 0, "archived=false": 1, "pinned=true": 0, "offset=1": 0, "limit=1": 1, "users=admin": 0,
	} {
		if got := h.getJSON("/api/v1/workspaces?" + q)["workspaces"].([]any); len(got) != want {
			t.Errorf("?%s: %d workspaces, want %d", q, len(got), want)
		}
	}

	one := h.getJSON("/api/v1/workspaces/1")["workspace"].(map[string]any)
	fieldKinds(t, "workspace 1", one, kinds)
	for path, code := range map[string]int{"/api/v1/workspaces/2": http.StatusNotFound, "/api/v1/workspaces/x": http.StatusBadRequest, "/api/v1/workspaces?archived=maybe": http.StatusBadRequest} {
		if w := h.req("GET", path, nil, nil); w.Code != code {
			t.Errorf("GET %s: %d, want %d", path, w.Code, code)
		}
	}
}
