package bridge

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

// resolveAsIs is det-launcher on a host where every image is a SIF and
// every path exists and is no link.
type resolveAsIs struct{}

func (resolveAsIs) Run(_ context.Context, c slurm.Cmd) ([]byte, error) {
	if c.Args[0] == "check-image" {
		return []byte(`{"type":"sif"}`), nil
	}
	var out []jobspec.ResolvedPath
	for _, p := range c.Args[1:] {
		out = append(out, jobspec.ResolvedPath{Path: p, Real: p})
	}
	return json.Marshal(out)
}

// Options the bridge sets itself, in any spelling sbatch takes (it takes
// unambiguous abbreviations of long ones); a user may give none of them.
var (
	bridgeLong  = []string{"--job-name", "--partition", "--nodes", "--ntasks", "--output", "--error", "--chdir", "--gres", "--gpus", "--export", "--wrap", "--uid", "--gid", "--parsable", "--array", "--input"}
	bridgeShort = "JpNnoeDGi"
	gresType    = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

// FuzzRenderJob: whatever a user puts in a notebook's config (description,
// an environment value, a bind path, the work folder, the GPU type and
// sbatch options) and whichever pool, a start through the API is refused,
// or it gives sbatch the fixed batch script and an argv in which every
// element comes from the site config or is a user option the pool admits
// (its allow-list where it has one), each one whole argv element.
func FuzzRenderJob(f *testing.F) {
	f.Add("$(touch pwned-desc)", "x; touch pwned-env", "/shared/a", "/tmp", "", "--time=10", "", false, uint8(1))
	f.Add("`id`", "$HOME\nrm -rf /", "/shared/a b", "", "a100", "--comment=\"; reboot", "-t10", false, uint8(2))
	f.Add("JupyterLab", "'", "/shared/../etc", "", "v100;id", "-p gpu", "--acc=other", false, uint8(1))
	f.Add("a\nb", "\x00", "relative", "-x", "", "--export=ALL", "--mem=4G", true, uint8(0))
	f.Add("ok", "ok", "/shared/data", "/home", "", "--time=01:00:00", "--mem=8G", true, uint8(0))
	f.Add("ok", "ok", "/shared/data", "", "", "--cpus-per-task=4", "--qos=high", true, uint8(0))
	f.Add("ok", "ok", "/shared/data", "", "", "--nodel=gpu1", "--q=high", false, uint8(4))
	h := newHarness(f)
	h.srv.cfg.ContainerRuntime.Type = "apptainer" // a runtime that can bind, so bind paths are fuzzed too
	h.srv.imageRunner = resolveAsIs{}
	h.srv.cfg.AllowedBindPrefixes = []string{"/shared"}
	gpu, _ := h.srv.cfg.Pool("gpu")
	gpu.SbatchArgs = []string{"--account=physics", "--qos=interactive"}
	cpu, _ := h.srv.cfg.Pool("cpu")
	cpu.SbatchArgs = []string{"--time=01:00:00"}
	cpu.AllowedSbatchArgs = []string{"--time", "--mem", "--comment"}
	const launcher = "/opt/det/det-launcher"
	jobUser := submitUserWant()

	f.Fuzz(func(t *testing.T, desc, envVal, hostPath, workDir, gpuType, arg1, arg2 string, cpuPool bool, slots uint8) {
		gpuType, arg1, arg2 = asSent(gpuType), asSent(arg1), asSent(arg2)
		pool := gpu
		if cpuPool {
			pool, slots = cpu, 0
		}
		userArgs := []any{arg1}
		if arg2 != "" {
			userArgs = append(userArgs, arg2)
		}
		cfg := map[string]any{
			"description": desc,
			"environment": map[string]any{"environment_variables": []any{"X=" + envVal}},
			"bind_mounts": []any{map[string]any{"host_path": hostPath, "container_path": "/data"}},
			"work_dir":    workDir,
			"slurm":       map[string]any{"sbatch_args": userArgs, "gpu_type": gpuType},
			"resources":   map[string]any{"slots": int(slots), "resource_pool": pool.Name},
		}
		var got *slurm.SubmitRequest
		h.slurm.submit = func(r slurm.SubmitRequest) (string, error) { got = &r; return "77", nil }
		w := h.req(http.MethodPost, "/api/v1/notebooks", api.LaunchRequest{Config: cfg}, nil)
		switch {
		case w.Code == http.StatusBadRequest && got == nil:
			return // refused, and nothing reached sbatch
		case w.Code != http.StatusOK || got == nil:
			t.Fatalf("%d %s (sbatch called: %v)", w.Code, w.Body, got != nil)
		}
		var launched api.LaunchNotebookResponse
		if err := json.Unmarshal(w.Body.Bytes(), &launched); err != nil {
			t.Fatal(err)
		}
		nb := launched.Notebook
		dir := filepath.Join(h.root, "jobuser", nb.ID)
		defer os.RemoveAll(dir)

		// The script: the fixed template around two bridge-made paths.
		want := "#!/bin/sh\n# Written by det-bridge: runs the notebook's launcher; all settings are in the spec file.\n" +
			"exec '" + launcher + "' run --spec '" + filepath.Join(dir, "task.json") + "'\n"
		script, err := os.ReadFile(got.Script)
		if got.Script != filepath.Join(dir, "job.sh") || err != nil || string(script) != want {
			t.Fatalf("script %s (%v) is not the fixed template:\n%s", got.Script, err, script)
		}
		if got.User != jobUser {
			t.Fatalf("sbatch runs as %q, want %q", got.User, jobUser)
		}

		// The argv: the bridge's own options, made from the site config...
		own := []string{"--job-name=det-notebook-" + nb.ID, "--partition=" + pool.Partition, "--nodes=1", "--ntasks=1",
			"--output=" + filepath.Join(dir, "output.log"), "--chdir=" + dir}
		args := got.Args
		if len(args) < len(own) || !slices.Equal(args[:len(own)], own) {
			t.Fatalf("sbatch argv %q does not start with the bridge's own %q", args, own)
		}
		args = args[len(own):]
		if slots > 0 {
			typ := pool.GPU.Type
			if gpuType != "" {
				typ = gpuType
			}
			gres := "--gres=" + pool.GPU.Gres + ":" + typ + ":" + strconv.Itoa(int(slots))
			if len(args) == 0 || args[0] != gres || !gresType.MatchString(typ) {
				t.Fatalf("sbatch argv %q: want %q next, with a plain GPU type", got.Args, gres)
			}
			args = args[1:]
		}
		// ...the pool's preemption policy...
		requeue := requeueArgs(pool)
		if len(args) < len(requeue) || !slices.Equal(args[:len(requeue)], requeue) {
			t.Fatalf("sbatch argv %q: want the pool's preemption policy %q next", got.Args, requeue)
		}
		args = args[len(requeue):]
		if len(args) < len(pool.SbatchArgs) || !slices.Equal(args[:len(pool.SbatchArgs)], pool.SbatchArgs) {
			t.Fatalf("sbatch argv %q lacks the pool's %q", got.Args, pool.SbatchArgs)
		}
		args = args[len(pool.SbatchArgs):]
		// ...then the user's, each one whole element, as given.
		if len(args) != len(userArgs) || args[0] != arg1 || (arg2 != "" && args[1] != arg2) {
			t.Fatalf("sbatch argv %q: the user's options %q are not passed as given", got.Args, userArgs)
		}
		for _, a := range args {
			checkUserOption(t, a, pool)
		}
	})
}

// checkUserOption fails unless a is one clean option that a user may give
// in pool: on its allow-list where it has one; else none the bridge or the
// pool sets, in any spelling.
func checkUserOption(t *testing.T, a string, pool *siteconfig.Pool) {
	t.Helper()
	if strings.ContainsAny(a, "\n\r\x00") || !strings.HasPrefix(a, "-") || len(a) < 3 {
		t.Fatalf("sbatch argument %q is not one clean option", a)
	}
	name, _, _ := strings.Cut(a, "=")
	if len(pool.AllowedSbatchArgs) > 0 {
		if !slices.Contains(pool.AllowedSbatchArgs, name) {
			t.Fatalf("pool %s allows %q only, yet %q passed", pool.Name, pool.AllowedSbatchArgs, a)
		}
		return
	}
	if !strings.HasPrefix(name, "--") {
		if strings.IndexByte(bridgeShort+"Aq", a[1]) >= 0 { // -A and -q are the pool's --account and --qos
			t.Fatalf("a short option the bridge or the pool sets (or a flag cluster) passed: %q", a)
		}
		return
	}
	owned := append([]string(nil), bridgeLong...)
	for _, p := range pool.SbatchArgs {
		o, _, _ := strings.Cut(p, "=")
		owned = append(owned, o)
	}
	for _, o := range owned {
		if strings.HasPrefix(o, name) {
			t.Fatalf("an option the bridge or the pool sets passed (sbatch takes abbreviations): %q", a)
		}
	}
}

// submitUserWant is the user sbatch runs as in these tests: the job's
// user when the tests run as root, else the bridge's own.
func submitUserWant() string {
	if os.Geteuid() == 0 {
		return "jobuser"
	}
	return ""
}

// asSent is s as the bridge receives it in a JSON request (each byte that
// is not UTF-8 becomes U+FFFD).
func asSent(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}
