package cli

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
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

// TestLaunchOptions: -c and --include go as Determined's files, with
// --preview as preview; what is left out of the context is said.
func TestLaunchOptions(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "startup-hook.sh"), []byte("echo hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nonexistent", filepath.Join(dir, "broken")); err != nil {
		t.Fatal(err)
	}
	con, _, errOut := testConsole("")
	o := &startOptions{contextDir: dir, preview: true, overrides: []string{"resources.slots=0"}}
	lo, err := o.launchOptions(client.NotebookKind, con.ErrOut)
	if err != nil {
		t.Fatal(err)
	}
	req := lo.request
	if !req.Preview || !lo.preview || len(req.Files) != 1 || req.Files[0].Path != "startup-hook.sh" || req.Files[0].Type != api.FileTypeRegular || req.Files[0].Mode != 0o100755 {
		t.Errorf("request %+v", req)
	}
	if res, _ := req.Config["resources"].(map[string]any); res["slots"] != 0 {
		t.Errorf("config %v", req.Config)
	}
	if !strings.Contains(errOut.String(), "Left out of the context (links to folders, broken links, sockets, devices, pipes): broken") {
		t.Errorf("said %q", errOut.String())
	}
}

// TestStartNotebook: a preview prints the merged config; -d prints the
// id; otherwise each state is printed until the notebook runs, then its
// address; a notebook that ends first says where its logs are.
func TestStartNotebook(t *testing.T) {
	defer func(d time.Duration) { pollInterval = d }(pollInterval)
	pollInterval = 0
	ctx := context.Background()
	f := &fakeClient{launched: client.Launched{Task: api.Notebook{ID: "abcd1234-5678", Description: "JupyterLab (calm-otter)", State: api.StateQueued, Reason: "Priority", ServiceAddress: "/proxy/abcd1234-5678/"},
		Config: []byte(`{"resources":{"slots":0,"resource_pool":"cpu"},"idle_timeout":"30m"}`)}}
	con, out, _ := testConsole("")
	if err := runStartNotebook(ctx, launchOptions{preview: true, request: api.LaunchRequest{Preview: true}}, f, con); err != nil ||
		!f.called("Launch notebook true 0") || !strings.Contains(out.String(), "resource_pool: cpu") || !strings.Contains(out.String(), "idle_timeout: 30m") {
		t.Errorf("preview: %v %v\n%s", err, f.calls, out.String())
	}
	con, out, _ = testConsole("")
	if err := runStartNotebook(ctx, launchOptions{detach: true}, f, con); err != nil || out.String() != "abcd1234-5678\n" || f.called("Get notebook abcd1234-5678") {
		t.Errorf("-d: %v %q", err, out.String())
	}
	f.states = []string{api.StateQueued, api.StateStarting, api.StateRunning}
	con, out, _ = testConsole("")
	if err := runStartNotebook(ctx, launchOptions{noBrowser: true}, f, con); err != nil {
		t.Fatal(err)
	}
	want := "Scheduling notebook JupyterLab (calm-otter) (id: abcd1234-5678)...\nQUEUED (Priority) ...\nSTARTING ...\nRUNNING ...\n" +
		"Jupyter Notebook is running at: http://bridge.example/proxy/abcd1234-5678/\n"
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
	f.states = []string{api.StateTerminated}
	con, _, _ = testConsole("")
	if err := runStartNotebook(ctx, launchOptions{}, f, con); err == nil || !strings.HasSuffix(err.Error(), "(see `det notebook logs abcd1234`)") {
		t.Errorf("ended first: %v", err)
	}
}

// TestStartShellDetached: det shell start -d launches a shell with the
// files of -c and prints its id.
func TestStartShellDetached(t *testing.T) {
	detEnv(t, "alice")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &fakeClient{launched: client.Launched{Task: api.Notebook{ID: "sh-1"}}}
	if out, errOut, code := runFake(t, f, "", "shell", "start", "-d", "-c", dir); code != 0 || out != "sh-1\n" || !f.called("Launch shell false 1") {
		t.Errorf("exit %d, calls %v: %s%s", code, f.calls, out, errOut)
	}
	f.calls = nil
	if _, errOut, code := runFake(t, f, "", "shell", "start", "-d", "--config-file", "/no/such.yaml"); code != 1 || !strings.Contains(errOut, "/no/such.yaml") || len(f.calls) != 0 {
		t.Errorf("a bad --config-file: exit %d, calls %v: %s", code, f.calls, errOut)
	}
}
