package bridge

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/slurm"
)

// FuzzRenderJob: whatever a user puts in the description, an environment
// value, a bind path or an sbatch argument, the batch script is the fixed
// template, and each sbatch argument is one argv element that is either the
// bridge's own or the user's validated option: or the submit is refused.
func FuzzRenderJob(f *testing.F) {
	f.Add("$(touch pwned-desc)", "x; touch pwned-env", "/tmp/a", "--time=10")
	f.Add("`id`", "$HOME\nrm -rf /", "/tmp/a b", "--comment=\"; reboot")
	f.Add("JupyterLab", "'", "/tmp/../etc", "-p gpu")
	f.Add("a\nb", "\x00", "relative", "--export=ALL")
	h := newHarness(f)
	h.srv.cfg.ContainerRuntime.Type = "apptainer" // a runtime that can bind, so bind paths are fuzzed too
	const launcher = "/opt/det/det-launcher"
	f.Fuzz(func(t *testing.T, desc, envVal, hostPath, sbatchArg string) {
		userCfg := map[string]any{
			"description":  desc,
			"environment":  map[string]any{"environment_variables": []any{"X=" + envVal}},
			"bind_mounts":  []any{map[string]any{"host_path": hostPath, "container_path": "/data"}},
			"slurm":        map[string]any{"sbatch_args": []any{sbatchArg}},
			"resources":    map[string]any{"slots": 1},
			"idle_timeout": "",
			"work_dir":     "",
		}
		cfg, pool, err := h.srv.resolveConfig(userCfg)
		if err != nil {
			return // refused
		}
		task := &store.Task{ID: "0b5e8d2c-0000-4000-8000-000000000000", Type: typeNotebook, Slots: 1,
			JobDir: filepath.Join(h.root, "alice", "0b5e8d2c-0000-4000-8000-000000000000")}
		spec := filepath.Join(task.JobDir, "task.json")
		script, err := slurm.RenderScript(launcher, spec)
		if err != nil {
			t.Fatalf("bridge-made paths refused: %v", err)
		}
		want := "#!/bin/sh\n# Written by det-bridge: runs the notebook's launcher; all settings are in the spec file.\nexec '" + launcher + "' run --spec '" + spec + "'\n"
		if script != want {
			t.Fatalf("script is not the fixed template:\n%s", script)
		}
		// The script equals the template built from bridge-made paths alone,
		// so no user byte is in it (a substring test would be fooled by a
		// user value that happens to spell part of such a path).
		args := h.srv.sbatchArgs(task, cfg, pool)
		for _, a := range args {
			if strings.ContainsAny(a, "\n\r\x00") || !strings.HasPrefix(a, "-") {
				t.Fatalf("sbatch argument %q is not one clean option", a)
			}
		}
		if !slices.Contains(args, sbatchArg) || args[len(args)-1] != sbatchArg {
			t.Fatalf("the user's option %q is not passed last, as one element: %q", sbatchArg, args)
		}
		name, _, _ := strings.Cut(sbatchArg, "=")
		for _, owned := range []string{"--partition", "--gres", "--gpus", "--output", "--error", "--chdir", "--export", "--wrap", "--uid", "--job-name", "--nodes", "--ntasks"} {
			if strings.HasPrefix(name, "--") && len(name) > 3 && strings.HasPrefix(owned, name) {
				t.Fatalf("an option the bridge owns was accepted (sbatch takes abbreviations): %q", sbatchArg)
			}
		}
		if !strings.HasPrefix(name, "--") && len(name) > 1 && strings.IndexByte("pGNnoeDJWMHvQ", name[1]) >= 0 {
			t.Fatalf("a short option the bridge owns (or a flag cluster) was accepted: %q", sbatchArg)
		}
	})
}
