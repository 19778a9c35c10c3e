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

// TestListJSONAndTable runs `det notebook list` against a stub bridge.
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
			_ = json.NewEncoder(w).Encode(api.NotebookList{Notebooks: []api.Notebook{{ID: "abcd-1", State: "QUEUED", Reason: "Priority", ResourcePool: "gpu", Slots: 1, Description: "JupyterLab (calm-otter)"}}})
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	t.Setenv("DET_USER", "determined")
	for _, args := range [][]string{{"notebook", "list", "--json"}, {"notebook", "ls"}} {
		var out, errOut bytes.Buffer
		code := Execute(context.Background(), append([]string{"-m", srv.URL}, args...), IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		if !strings.Contains(out.String(), "abcd-1") || !strings.Contains(out.String(), "Priority") {
			t.Errorf("%v printed %s", args, out.String())
		}
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
