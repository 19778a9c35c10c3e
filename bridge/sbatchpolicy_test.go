package bridge

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

func TestCheckPoolSbatch(t *testing.T) {
	pool := &siteconfig.Pool{Name: "interactive", SbatchArgs: []string{"--account=physics", "--qos=interactive", "-t", "60", "--mem=8G", "-Cv100"}}
	refused := map[string]string{
		"--account=other":   "--account",
		"--account":         "--account",
		"--acc=other":       "--account",
		"--acco=other":      "--account",
		"-Aother":           "--account",
		"--qos=normal":      "--qos",
		"-qnormal":          "--qos",
		"--time=600":        "--time",
		"-t600":             "--time",
		"--time-min=10":     "--time",
		"--mem-per-cpu=64G": "--mem",
		"--mem-per-gpu=64G": "--mem",
		"--constraint=a100": "--constraint",
		"--cons=a100":       "--constraint",
	}
	for arg, opt := range refused {
		err := checkPoolSbatch(pool, []string{"--cpus-per-task=2", arg})
		var ue *userError
		if !errors.As(err, &ue) || ue.code != http.StatusBadRequest ||
			!strings.HasPrefix(ue.msg, "slurm.sbatch_args[1]:") || !strings.Contains(ue.msg, opt) || !strings.Contains(ue.msg, "pool interactive") {
			t.Errorf("%s: got %v, want a 400 naming %s and the pool", arg, err, opt)
		}
	}
	for _, arg := range []string{"--cpus-per-task=4", "-c4", "--comment=x", "--exclude=r1-gpu02-ib", "--acctg-freq=30", "--begin=now"} {
		if err := checkPoolSbatch(pool, []string{arg}); err != nil {
			t.Errorf("%s: %v", arg, err)
		}
	}
	// An option the pool lets users change passes.
	pool.AllowedSbatchArgs = []string{"--time", "--comment"}
	if err := checkPoolSbatch(pool, []string{"--time=30"}); err != nil {
		t.Errorf("allowed --time: %v", err)
	}
	if err := checkPoolSbatch(&siteconfig.Pool{Name: "cpu"}, []string{"--account=x"}); err != nil {
		t.Errorf("a pool without policy: %v", err)
	}
}

// TestPoolPolicyThroughAPI: a start that would replace the pool's account
// is refused and nothing is submitted; preview says the same.
func TestPoolPolicyThroughAPI(t *testing.T) {
	h := newHarness(t)
	h.srv.cfg.ResourcePools[0].SbatchArgs = []string{"--account=physics", "--qos=interactive"}
	h.slurm.submit = func(slurm.SubmitRequest) (string, error) {
		t.Error("submitted a job that overrides the pool's account")
		return "1", nil
	}
	cfg := map[string]any{"resources": map[string]any{"resource_pool": "gpu"}, "slurm": map[string]any{"sbatch_args": []any{"--account=other"}}}
	for _, preview := range []bool{false, true} {
		w := h.req(http.MethodPost, "/api/v1/notebooks", api.LaunchRequest{Config: cfg, Preview: preview}, nil)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "--account") || !strings.Contains(w.Body.String(), "pool gpu") {
			t.Errorf("preview %v: %d %s", preview, w.Code, w.Body.String())
		}
	}
}
