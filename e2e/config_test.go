package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// startCLI runs `det notebook start` and returns the new notebook's id.
func startCLI(t *testing.T, c *client.Client, args ...string) (string, string) {
	t.Helper()
	det := filepath.Join(repo, "bin", "det")
	cmd := append([]string{"notebook", "start", "--no-browser"}, args...)
	out := runAllowFail(det, cmd...)
	i := strings.Index(out, "(id: ")
	if i < 0 || len(out) < i+5+36 {
		t.Fatalf("det %s printed no id:\n%s", strings.Join(cmd, " "), out)
	}
	id := out[i+5 : i+5+36]
	t.Cleanup(func() { _, _ = c.KillNotebook(context.Background(), id) })
	return id, out
}

// TestContextHookBindsAndDetInside: a context with a startup hook, a config
// file with bind_mounts and --config slots=2 together; the hook's file and
// variable, the bound folder, both GPUs and `det` itself inside the kernel;
// shell-looking values stay inert.
func TestContextHookBindsAndDetInside(t *testing.T) {
	c := cluster(t)
	ctxDir := t.TempDir()
	hook := "echo 'hook: preparing'\necho from-hook > hook-made.txt\nexport HOOK_VAR=hook-value\n"
	if err := os.WriteFile(filepath.Join(ctxDir, "startup-hook.sh"), []byte(hook), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ctxDir, "ignored.bin"), []byte("no"), 0o644)
	os.WriteFile(filepath.Join(ctxDir, ".detignore"), []byte("*.bin\n"), 0o644)
	data := filepath.Join(state, "shared", "e2e-bind-"+time.Now().Format("150405.000000"))
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	os.WriteFile(filepath.Join(data, "input.txt"), []byte("bound"), 0o644)
	cfgFile := filepath.Join(t.TempDir(), "nb.yaml")
	cfg := "bind_mounts:\n  - host_path: " + data + "\n    container_path: /data\n    read_only: true\n" +
		"environment:\n  environment_variables:\n    - \"EVIL=x; touch pwned-env\"\n"
	os.WriteFile(cfgFile, []byte(cfg), 0o644)

	id, _ := startCLI(t, c, "-c", ctxDir, "--config-file", cfgFile, "--config", "resources.slots=2",
		"--config", "description=$(touch pwned-desc)")
	nb := waitState(t, c, id, api.StateRunning, startWithin)
	if nb.Description != "$(touch pwned-desc)" || nb.Slots != 2 {
		t.Errorf("notebook %+v", nb)
	}
	k := openKernel(t, c, id)
	checks := []struct{ code, want string }{
		{`print(open("/run/determined/workdir/hook-made.txt").read().strip())`, "from-hook"},
		{`import os; print(os.environ.get("HOOK_VAR"))`, "hook-value"},
		{`import os; print(os.environ.get("EVIL"))`, "x; touch pwned-env"},
		{`print(open("/data/input.txt").read())`, "bound"},
		{`import os; print(len(os.environ["CUDA_VISIBLE_DEVICES"].split(",")))`, "2"},
		{`import os; print(os.path.exists("/run/determined/workdir/ignored.bin"))`, "False"},
	}
	for _, ch := range checks {
		if got := strings.TrimSpace(k.exec(ch.code)); got != ch.want {
			t.Errorf("%s -> %q, want %q", ch.code, got, ch.want)
		}
	}
	list := k.exec(`import subprocess; r = subprocess.run(["det", "notebook", "list"], capture_output=True, text=True); print(r.stdout + r.stderr)`)
	if !strings.Contains(list, id) || !strings.Contains(list, "RUNNING") {
		t.Errorf("det notebook list inside the notebook:\n%s", list)
	}
	jobDir := filepath.Join(state, "jobs", "alice", id)
	for _, dir := range []string{jobDir, filepath.Join(jobDir, "workdir"), "/home/alice", repo} {
		for _, f := range []string{"pwned-desc", "pwned-env"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				t.Errorf("%s was created in %s: a user value ran as shell", f, dir)
			}
		}
	}
	preview := run(t, filepath.Join(repo, "bin", "det"), "notebook", "config", id[:8])
	for _, w := range []string{"slots: 2", "container_path: /data", "EVIL=x; touch pwned-env"} {
		if !strings.Contains(preview, w) {
			t.Errorf("det notebook config lacks %q:\n%s", w, preview)
		}
	}
}

// TestFailingHook: a hook that exits 3 ends the notebook with its output.
func TestFailingHook(t *testing.T) {
	c := cluster(t)
	ctxDir := t.TempDir()
	os.WriteFile(filepath.Join(ctxDir, "startup-hook.sh"), []byte("echo 'hook: cannot find the dataset'\nexit 3\n"), 0o644)
	id, out := startCLI(t, c, "-c", ctxDir, "--config", "resources.slots=0", "--config", "resources.resource_pool=cpu")
	if !strings.Contains(out, "startup hook exited with 3") {
		t.Errorf("det notebook start printed:\n%s", out)
	}
	nb := waitState(t, c, id, api.StateTerminated, startWithin)
	if !strings.HasPrefix(nb.Reason, "startup hook exited with 3") || !strings.Contains(nb.Reason, "cannot find the dataset") {
		t.Errorf("reason %q", nb.Reason)
	}
}

// TestContextEscapeRefused: a file at ../escape is refused at submit.
func TestContextEscapeRefused(t *testing.T) {
	c := cluster(t)
	files := []api.File{{Path: "../escape", Type: api.FileTypeRegular, Content: "eA==", Mode: 0o100644}}
	j0, d0, n0 := leftovers(t, c)
	_, err := c.StartNotebook(ctxT(t, 30*time.Second), map[string]any{"resources": map[string]any{"slots": 0}}, files)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || !strings.Contains(ae.Message, "../escape") {
		t.Fatalf("want 400 naming ../escape, got %v", err)
	}
	if j, d, n := leftovers(t, c); j > j0 || d != d0 || n != n0 {
		t.Errorf("left behind: jobs %d->%d, folders %d->%d, notebooks %d->%d", j0, j, d0, d, n0, n)
	}
}

// TestPreview prints the merged config and submits nothing.
func TestPreview(t *testing.T) {
	c := cluster(t)
	_, _, n0 := leftovers(t, c)
	out := run(t, filepath.Join(repo, "bin", "det"), "notebook", "start", "--preview", "--config", "resources.slots=0")
	for _, w := range []string{"resource_pool: cpu", "slots: 0", "jupyterlab.sif"} {
		if !strings.Contains(out, w) {
			t.Errorf("--preview lacks %q:\n%s", w, out)
		}
	}
	if _, _, n := leftovers(t, c); n != n0 {
		t.Errorf("--preview submitted a notebook")
	}
}
