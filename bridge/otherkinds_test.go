package bridge

import (
	"net/http"
	"strings"
	"testing"
)

// TestOtherKinds: lists of kinds the bridge does not run are empty lists
// (never null); launching one says why it cannot.
func TestOtherKinds(t *testing.T) {
	h := newHarness(t)
	for path, key := range map[string]string{"/api/v1/commands": `"commands":[]`, "/api/v1/tensorboards": `"tensorboards":[]`, "/api/v1/templates": `"templates":[]`} {
		w := h.req("GET", path, nil, nil)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), key) {
			t.Errorf("GET %s: %d %s", path, w.Code, w.Body)
		}
	}
	w := h.req("POST", "/api/v1/commands", map[string]any{"config": map[string]any{}}, nil)
	if w.Code != http.StatusNotImplemented || !strings.Contains(w.Body.String(), "notebooks and shells") {
		t.Errorf("POST /api/v1/commands: %d %s", w.Code, w.Body)
	}
}
