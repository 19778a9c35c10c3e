package bridge

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/slurm"
	"github.com/det-slurm/bridge/taskconfig"
)

// send posts body as it is, with no Content-Type, as Determined's CLI
// does.
func (h *harness) send(method, path, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+h.token)
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, r)
	return w
}

// requiredTaskFields are v1Notebook's and v1Shell's required fields, and
// serviceAddress, which the bridge always sends.
var requiredTaskFields = []string{"id", "description", "state", "startTime", "username", "resourcePool", "jobId", "workspaceId", "serviceAddress"}

// checkShape decodes a JSON answer and fails on any null in it and on a
// task under key (a path such as "notebook" or "notebooks.0") that lacks a
// required field.
func checkShape(t *testing.T, body []byte, keys ...string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case nil:
			t.Errorf("%s is null in %s", path, body)
		case map[string]any:
			for k, e := range x {
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	walk("", m)
	for _, key := range keys {
		var v any = m
		for _, part := range strings.Split(key, ".") {
			switch x := v.(type) {
			case map[string]any:
				v = x[part]
			case []any:
				if len(x) == 0 {
					t.Fatalf("%s: empty list in %s", key, body)
				}
				v = x[0]
			}
		}
		task, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("no task at %s in %s", key, body)
		}
		for _, f := range requiredTaskFields {
			if _, ok := task[f]; !ok {
				t.Errorf("%s lacks %s: %s", key, f, body)
			}
		}
	}
	return m
}

// TestLaunchAsDeterminedSends: Determined's CLI sends explicit nulls and
// no Content-Type; the answer is a LaunchNotebookResponse with 200.
func TestLaunchAsDeterminedSends(t *testing.T) {
	h := newHarness(t)
	w := h.send("POST", "/api/v1/notebooks", `{"config":null,"files":null,"preview":false,"templateName":null,"workspaceId":null}`)
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	m := checkShape(t, w.Body.Bytes(), "notebook")
	var resp api.LaunchNotebookResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	nb := resp.Notebook
	if nb.State != api.StateQueued || nb.JobID != nb.ID || nb.SlurmJobID != "101" || nb.ServiceAddress != "/proxy/"+nb.ID+"/" ||
		nb.WorkspaceID != 1 || nb.Username != "determined" || nb.UserID == nil || nb.StartTime.IsZero() {
		t.Errorf("notebook %+v", nb)
	}
	if w, ok := m["warnings"].([]any); !ok || len(w) != 0 {
		t.Errorf("warnings %v, want []", m["warnings"])
	}
	var cfg taskconfig.Config
	if err := json.Unmarshal(resp.Config, &cfg); err != nil || cfg.Resources.ResourcePool != "gpu" || cfg.SlotCount() != 1 {
		t.Errorf("config %s (%v)", resp.Config, err)
	}
	for _, p := range []string{"/api/v1/notebooks/" + nb.ID, "/api/v1/notebooks/" + nb.ID[:8]} {
		w := h.req("GET", p, nil, nil)
		got := checkShape(t, w.Body.Bytes(), "notebook")
		if w.Code != http.StatusOK || got["config"] == nil {
			t.Errorf("GET %s: %d %s", p, w.Code, w.Body)
		}
	}
	w = h.req("POST", "/api/v1/notebooks/"+nb.ID[:8]+"/kill", nil, nil)
	checkShape(t, w.Body.Bytes(), "notebook")
}

// TestLaunchFiles: Determined's files (mtime a string or a number, modes
// as st_mode) reach the job as the context archive it unpacks.
func TestLaunchFiles(t *testing.T) {
	h := newHarness(t)
	body := `{"config":{"resources":{"slots":0,"resource_pool":"cpu"}},"files":[
		{"path":"startup-hook.sh","type":48,"content":"ZWNobyBoaQo=","mode":33261,"mtime":"1700000000","uid":0,"gid":0},
		{"path":"data","type":53,"content":"","mode":16877,"mtime":1700000000,"uid":0,"gid":0},
		{"path":"data/a.txt","type":48,"content":"YQ==","mode":33188,"mtime":"1700000000","uid":1000,"gid":1000}],
		"preview":false,"templateName":null,"workspaceId":null}`
	w := h.send("POST", "/api/v1/notebooks", body)
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var resp api.LaunchNotebookResponse
	_ = json.Unmarshal(w.Body.Bytes(), &resp)
	data, err := os.ReadFile(filepath.Join(h.root, "jobuser", resp.Notebook.ID, "context.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	if err := taskconfig.ExtractContext(data, dest); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"startup-hook.sh": "echo hi\n", "data/a.txt": "a"} {
		if got, err := os.ReadFile(filepath.Join(dest, name)); err != nil || string(got) != want {
			t.Errorf("%s: %q %v", name, got, err)
		}
	}
	if st, err := os.Stat(filepath.Join(dest, "startup-hook.sh")); err != nil || st.Mode().Perm()&0o100 == 0 {
		t.Errorf("the hook is not executable: %v %v", st, err)
	}
	// A shell, as Determined's CLI launches one: mtime a number.
	w = h.send("POST", "/api/v1/shells", `{"config":{"resources":{"slots":0}},"files":[{"path":"x","type":48,"content":"eA==","mode":33188,"mtime":1700000000,"uid":0,"gid":0}]}`)
	if w.Code != http.StatusOK {
		t.Fatalf("shell: %d %s", w.Code, w.Body)
	}
	m := checkShape(t, w.Body.Bytes(), "shell")
	if _, ok := m["notebook"]; ok {
		t.Errorf("a shell's launch answers with a notebook: %s", w.Body)
	}
}

// TestLaunchRefusals: templates, other workspaces and bad files are
// refused naming the field or the entry's path, and nothing is submitted.
func TestLaunchRefusals(t *testing.T) {
	h := newHarness(t)
	h.slurm.submit = func(r slurm.SubmitRequest) (string, error) {
		t.Errorf("submitted %v", r.Args)
		return "1", nil
	}
	file := func(path string, typ int) string {
		b, _ := json.Marshal(api.File{Path: path, Type: typ, Content: "eA==", Mode: 0o100644, Mtime: 1})
		return `{"config":{},"files":[` + string(b) + `]}`
	}
	for _, c := range []struct {
		path, body string
		code       int
		want       string
	}{
		{"/api/v1/notebooks", `{"config":{},"templateName":"gpu-template"}`, 400, "templateName: templates are not supported"},
		{"/api/v1/shells", `{"config":{},"template_name":"t"}`, 400, "template_name: templates are not supported"},
		{"/api/v1/notebooks", `{"config":{},"workspaceId":7}`, 404, "workspaceId: no workspace 7"},
		{"/api/v1/shells", `{"config":{},"workspaceId":2,"preview":true}`, 404, "workspaceId: no workspace 2"},
		{"/api/v1/notebooks", file("../x", '0'), 400, `files: "../x": leaves the working directory`},
		{"/api/v1/notebooks", file("/etc/passwd", '0'), 400, `files: "/etc/passwd": is absolute`},
		{"/api/v1/notebooks", file("l", '2'), 400, `files: "l": is a symbolic link`},
		{"/api/v1/notebooks", file("dev", '3'), 400, `files: "dev": is a device`},
		{"/api/v1/notebooks", `{"config":{},"files":[{"path":"x","type":48,"content":"eA==","mode":0,"mtime":"soon"}]}`, 400, "mtime"},
		{"/api/v1/notebooks", `{"config":{},"files":[{"path":"x","type":48,"content":"**","mode":0,"mtime":0}]}`, 400, `files: "x": content is not standard base64`},
		{"/api/v1/notebooks", `{"config":{},"files":[{"path":"a","type":48,"content":""},{"path":"a/b","type":48,"content":""}]}`, 400, `files: "a/b": lies under the file "a"`},
		{"/api/v1/notebooks", `{"config":{"resourcez":1}}`, 400, "resourcez: unknown field"},
	} {
		w := h.send("POST", c.path, c.body)
		if w.Code != c.code || !strings.Contains(errorOf(w.Body.Bytes()), c.want) {
			t.Errorf("%s %s: %d %s, want %d with %q", c.path, c.body, w.Code, w.Body, c.code, c.want)
		}
	}
	for _, p := range []string{"/api/v1/notebooks", "/api/v1/shells"} {
		w := h.req("GET", p, nil, nil)
		if !bytes.Contains(w.Body.Bytes(), []byte(`s":[]`)) {
			t.Errorf("refused launches left tasks: %s", w.Body)
		}
	}
	for _, ws := range []string{"0", "1"} {
		if w := h.send("POST", "/api/v1/notebooks", `{"config":{},"preview":true,"workspaceId":`+ws+`}`); w.Code != http.StatusOK {
			t.Errorf("workspace %s: %d %s", ws, w.Code, w.Body)
		}
	}
}

// TestLaunchPreview: preview answers with the merged config and a task
// that runs nothing; nothing is submitted or stored.
func TestLaunchPreview(t *testing.T) {
	h := newHarness(t)
	h.slurm.submit = func(r slurm.SubmitRequest) (string, error) {
		t.Errorf("preview submitted %v", r.Args)
		return "1", nil
	}
	for _, c := range []struct{ path, key string }{{"/api/v1/notebooks", "notebook"}, {"/api/v1/shells", "shell"}} {
		w := h.send("POST", c.path, `{"config":{"resources":{"slots":0}},"preview":true,"files":[{"path":"x","type":48,"content":"eA==","mode":33188,"mtime":"1"}]}`)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", c.path, w.Code, w.Body)
		}
		m := checkShape(t, w.Body.Bytes(), c.key)
		task := m[c.key].(map[string]any)
		if task["state"] != api.StateUnspecified || task["id"] != "" || task["resourcePool"] != "cpu" {
			t.Errorf("%s: preview task %v", c.path, task)
		}
		cfg := m["config"].(map[string]any)
		if cfg["resources"].(map[string]any)["resource_pool"] != "cpu" || cfg["idle_timeout"] == nil {
			t.Errorf("%s: merged config %v", c.path, cfg)
		}
		w = h.req("GET", c.path, nil, nil)
		if !bytes.Contains(w.Body.Bytes(), []byte(`s":[]`)) {
			t.Errorf("%s: a preview stored a task: %s", c.path, w.Body)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(h.root, "jobuser")); len(ents) != 0 {
		t.Errorf("a preview wrote job folders: %v", ents)
	}
	if w := h.send("POST", "/api/v1/notebooks", `{"preview":true,"files":[{"path":"../x","type":48,"content":""}]}`); w.Code != http.StatusBadRequest {
		t.Errorf("a preview with bad files: %d %s", w.Code, w.Body)
	}
}

// TestNotebooksAndShellsApart: a notebook is not a shell; each route
// finds only its own type.
func TestNotebooksAndShellsApart(t *testing.T) {
	h := newHarness(t)
	nb := h.start(nil)
	var sh api.LaunchShellResponse
	h.do("POST", "/api/v1/shells", api.LaunchRequest{Config: map[string]any{}}, &sh, http.StatusOK)
	if !strings.HasPrefix(sh.Shell.Description, "Shell (") || sh.Shell.ID == "" {
		t.Fatalf("shell %+v", sh.Shell)
	}
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/api/v1/shells/" + nb.ID, 404},
		{"POST", "/api/v1/shells/" + nb.ID + "/kill", 404},
		{"GET", "/api/v1/notebooks/" + sh.Shell.ID[:8], 404},
		{"GET", "/api/v1/shells/" + sh.Shell.ID[:8], 200},
		{"GET", "/api/v1/notebooks/" + nb.ID, 200},
	} {
		if w := h.req(c.method, c.path, nil, nil); w.Code != c.code {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, w.Code, w.Body, c.code)
		}
	}
	var got api.GetShellResponse
	h.do("GET", "/api/v1/shells/"+sh.Shell.ID, nil, &got, http.StatusOK)
	checkShape(t, h.req("GET", "/api/v1/shells/"+sh.Shell.ID, nil, nil).Body.Bytes(), "shell")
	var killed api.KillShellResponse
	h.do("POST", "/api/v1/shells/"+sh.Shell.ID+"/kill", nil, &killed, http.StatusOK)
	if killed.Shell.ID != sh.Shell.ID || killed.Shell.State != api.StateTerminating || killed.Shell.Reason != reasonKilled {
		t.Errorf("killed shell %+v", killed.Shell)
	}
	var list api.GetShellsResponse
	h.do("GET", "/api/v1/shells", nil, &list, http.StatusOK)
	if len(list.Shells) != 1 || list.Shells[0].ID != sh.Shell.ID || list.Shells[0].Reason != reasonKilled {
		t.Errorf("shells %+v", list.Shells)
	}
	// The routes that went are gone.
	if w := h.req("POST", "/api/v1/notebooks/preview", api.LaunchRequest{}, nil); w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
		t.Errorf("/notebooks/preview: %d", w.Code)
	}
	if w := h.req("GET", "/api/v1/notebooks/"+nb.ID+"/config", nil, nil); w.Code != http.StatusNotFound {
		t.Errorf("/notebooks/{id}/config: %d", w.Code)
	}
}
