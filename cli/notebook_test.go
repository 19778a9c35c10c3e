package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/bridge/api"
)

func TestBuildConfig(t *testing.T) {
	f := filepath.Join(t.TempDir(), "nb.yaml")
	if err := os.WriteFile(f, []byte("resources:\n  slots: 1\n  resource_pool: gpu\ndescription: from file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := &startOptions{configFile: f, overrides: []string{"resources.slots=2", "description=from flag"}}
	cfg, err := o.buildConfig()
	if err != nil {
		t.Fatal(err)
	}
	res := cfg["resources"].(map[string]any)
	if res["slots"] != 2 || res["resource_pool"] != "gpu" || cfg["description"] != "from flag" {
		t.Fatalf("merged %v", cfg)
	}
	if _, err := (&startOptions{configFile: "/no/such.yaml"}).buildConfig(); err == nil || !strings.Contains(err.Error(), "/no/such.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}

// TestListJSONAndTable runs `det notebook list` against a stub bridge:
// the table shows states without Determined's STATE_ prefix, --json
// prints Determined's objects.
func TestListJSONAndTable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/auth/login":
			_ = json.NewEncoder(w).Encode(api.LoginResponse{Token: "t"})
		case "/api/v1/notebooks":
			if r.Header.Get("Authorization") != "Bearer t" {
				w.WriteHeader(401)
				return
			}
			_ = json.NewEncoder(w).Encode(api.GetNotebooksResponse{Notebooks: []api.Notebook{{ID: "abcd-1", State: api.StateQueued, Reason: "Priority",
				ResourcePool: "gpu", Slots: 1, Description: "JupyterLab (calm-otter)", Username: "determined"}}})
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	t.Setenv("DET_USER", "determined")
	for _, c := range []struct {
		args      []string
		want, not string
	}{
		{[]string{"notebook", "list", "--json"}, `"state": "STATE_QUEUED"`, "\tQUEUED"},
		{[]string{"notebook", "ls"}, "QUEUED (Priority)", "STATE_"},
	} {
		out := runCLI(t, srv.URL, 0, c.args...)
		if !strings.Contains(out, "abcd-1") || !strings.Contains(out, "Priority") || !strings.Contains(out, c.want) || strings.Contains(out, c.not) {
			t.Errorf("%v printed %s", c.args, out)
		}
	}
}

// runCLI runs det against master and returns what it printed; it fails
// unless det exits with code.
func runCLI(t *testing.T, master string, code int, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	got := Execute(context.Background(), append([]string{"-m", master}, args...), IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	if got != code {
		t.Fatalf("%v: exit %d, want %d: %s%s", args, got, code, out.String(), errOut.String())
	}
	return out.String() + errOut.String()
}

// TestStartSendsFiles: -c and --include go as Determined's files, with
// --preview as preview; the merged config that comes back is printed.
// Shells use their own routes.
func TestStartSendsFiles(t *testing.T) {
	var got api.LaunchRequest
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.Path)
		cfg := json.RawMessage(`{"resources":{"slots":0,"resource_pool":"cpu"},"idle_timeout":"30m"}`)
		switch r.URL.Path {
		case "/api/v1/auth/login":
			_ = json.NewEncoder(w).Encode(api.LoginResponse{Token: "t"})
		case "/api/v1/notebooks":
			if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
				t.Error(err)
			}
			_ = json.NewEncoder(w).Encode(api.LaunchNotebookResponse{Config: cfg, Warnings: []string{}})
		case "/api/v1/shells/ab12":
			_ = json.NewEncoder(w).Encode(api.GetShellResponse{Shell: api.Shell{ID: "ab12-full"}, Config: cfg})
		case "/api/v1/shells/ab12/kill":
			_ = json.NewEncoder(w).Encode(api.KillShellResponse{Shell: api.Shell{ID: "ab12-full", Description: "Shell (x)"}})
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	t.Setenv("DET_USER", "determined")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "startup-hook.sh"), []byte("echo hi\n"), 0o755)
	os.Symlink("/nonexistent", filepath.Join(dir, "broken"))
	out := runCLI(t, srv.URL, 0, "notebook", "start", "--preview", "-c", dir, "--config", "resources.slots=0")
	if !strings.Contains(out, "resource_pool: cpu") || !strings.Contains(out, "idle_timeout: 30m") || !strings.Contains(out, "Left out of the context") {
		t.Errorf("preview printed %s", out)
	}
	if !got.Preview || len(got.Files) != 1 || got.Files[0].Path != "startup-hook.sh" || got.Files[0].Type != api.FileTypeRegular || got.Files[0].Mode != 0o100755 {
		t.Errorf("sent %+v", got)
	}
	if out := runCLI(t, srv.URL, 0, "shell", "config", "ab12"); !strings.Contains(out, "resource_pool: cpu") {
		t.Errorf("shell config printed %s", out)
	}
	if out := runCLI(t, srv.URL, 0, "shell", "kill", "ab12"); !strings.Contains(out, "Killed shell ab12-full (Shell (x))") {
		t.Errorf("shell kill printed %s", out)
	}
	if want := "GET /api/v1/shells/ab12"; !strings.Contains(strings.Join(paths, ","), want) {
		t.Errorf("requests %v lack %s", paths, want)
	}
}

// TestBuildConfigVolumes: -v is read as Apptainer reads --bind, several
// binds in one value, and a bad one names its part.
func TestBuildConfigVolumes(t *testing.T) {
	o := &startOptions{volumes: []string{"/shared/a:/a:ro,/shared/b:/b", "/scratch"}}
	cfg, err := o.buildConfig()
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		map[string]any{"host_path": "/shared/a", "container_path": "/a", "read_only": true},
		map[string]any{"host_path": "/shared/b", "container_path": "/b", "read_only": false},
		map[string]any{"host_path": "/scratch", "container_path": "/scratch", "read_only": false},
	}
	if !reflect.DeepEqual(cfg["bind_mounts"], want) {
		t.Fatalf("bind_mounts %v", cfg["bind_mounts"])
	}
	for v, msg := range map[string]string{
		"/a:/b:rox":  `-v: "rox" in "/a:/b:rox": is not a bind option`,
		"/a:/b,ro":   `-v: "/b,ro" in "/a:/b,ro": Apptainer's bind syntax reads it as 2 binds`,
		"/a:/b:ro:x": `-v: "x" in "/a:/b:ro:x": is a fourth part`,
		"/a^b:/c":    `-v: "^b" in "/a^b:/c"`,
		"":           `-v: "": no bind given`,
	} {
		_, err := (&startOptions{volumes: []string{v}}).buildConfig()
		if err == nil || !strings.HasPrefix(err.Error(), msg) {
			t.Errorf("-v %q: %v, want %q", v, err, msg)
		}
	}
}

// TestStateTextUnreachable: a running task the proxy cannot reach says so
// in the state column, with the time and the reason.
func TestStateTextUnreachable(t *testing.T) {
	since := time.Date(2026, 11, 29, 10, 42, 3, 0, time.Local)
	got := stateText(api.Notebook{State: api.StateRunning, Unreachable: &api.Unreachable{Since: since, Reason: "tunnel lost: the job closed the connection"}})
	if got != "RUNNING (unreachable since 10:42:03: tunnel lost: the job closed the connection)" {
		t.Errorf("state %q", got)
	}
	if got := stateText(api.Notebook{State: api.StateQueued, Reason: "Priority"}); got != "QUEUED (Priority)" {
		t.Errorf("state %q", got)
	}
}
