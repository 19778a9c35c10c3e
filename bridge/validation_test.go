package bridge

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/slurm"
)

// TestStartRefusesBadValues: each value the config validation refuses is
// a 400 naming the field, and nothing is submitted or left behind.
func TestStartRefusesBadValues(t *testing.T) {
	h := newHarness(t)
	h.slurm.submit = func(r slurm.SubmitRequest) (string, error) {
		t.Errorf("submitted %v", r.Args)
		return "1", nil
	}
	cpu := map[string]any{"resource_pool": "cpu", "slots": 0}
	cases := []struct {
		name  string
		cfg   map[string]any
		files []api.File
		want  string
	}{
		{"work_dir option", map[string]any{"resources": cpu, "work_dir": "-x"}, nil, "work_dir: "},
		{"work_dir relative", map[string]any{"resources": cpu, "work_dir": "notebooks"}, nil, "work_dir: "},
		{"work_dir long", map[string]any{"resources": cpu, "work_dir": "/" + strings.Repeat("w", 1<<20)}, nil, "work_dir: is 1048577 bytes long"},
		{"work_dir NUL", map[string]any{"resources": cpu, "work_dir": "/tmp/a\x00b"}, nil, "work_dir: "},
		{"env NUL", map[string]any{"resources": cpu, "environment": map[string]any{"environment_variables": []any{"A=x\x00y"}}}, nil, "environment.environment_variables[A]"},
		{"slots 2.5", map[string]any{"resources": map[string]any{"slots": 2.5}}, nil, "resources.slots: must be a whole number"},
		{"slots -1", map[string]any{"resources": map[string]any{"slots": -1}}, nil, "resources.slots"},
		{"long description", map[string]any{"resources": cpu, "description": strings.Repeat("d", 1<<20)}, nil, "description: is 1048576 characters, more than the 1000 allowed"},
		{"files ..", map[string]any{"resources": cpu}, []api.File{{Path: "../x", Type: api.FileTypeRegular, Content: "eA=="}}, `files: "../x": leaves the working directory`},
		{"files link", map[string]any{"resources": cpu}, []api.File{{Path: "l", Type: '2'}}, `files: "l": is a symbolic link`},
	}
	for _, c := range cases {
		w := h.req(http.MethodPost, "/api/v1/notebooks", api.LaunchRequest{Config: c.cfg, Files: c.files}, nil)
		var e api.Error
		_ = json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != http.StatusBadRequest || !strings.Contains(e.Message, c.want) || len(e.Message) > 1000 {
			t.Errorf("%s: %d %.300s, want 400 with %q", c.name, w.Code, w.Body.String(), c.want)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(h.root, "jobuser")); len(ents) != 0 {
		t.Errorf("job folders left behind: %v", ents)
	}
	var list api.GetNotebooksResponse
	h.do(http.MethodGet, "/api/v1/notebooks", nil, &list, http.StatusOK)
	if len(list.Notebooks) != 0 {
		t.Errorf("tasks stored: %+v", list.Notebooks)
	}
}
