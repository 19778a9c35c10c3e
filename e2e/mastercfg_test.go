package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDeterminedMasterYAML: det-bridge reads a Determined master.yaml for
// the dev cluster as it is, checks its pools against the real Slurm and
// shows what each field became; a misspelled field fails with its line.
func TestDeterminedMasterYAML(t *testing.T) {
	t.Parallel()
	cluster(t)
	bin := filepath.Join(repo, "bin", "det-bridge")
	yml := filepath.Join(repo, "site-configs", "devcluster-master.yaml")
	out := run(t, bin, "check-config", yml)
	for _, want := range []string{
		"resource_manager.job_storage_root -> job_storage_root = " + filepath.Join(state, "jobs"),
		"resource_manager.default_compute_resource_pool -> default_compute_pool = gpu",
		"resource_pools[0].provider.partition -> pool interactive: partition = gpu",
		"resource_manager.user_name -> unused",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check-config does not show %q:\n%s", want, out)
		}
	}

	data, err := os.ReadFile(yml)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "master.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(string(data), "job_storage_root:", "job_storage_roots:", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	line := 0
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, "job_storage_root:") {
			line = i + 1
			break
		}
	}
	cmd := exec.Command(bin, "check-config", "--offline", bad)
	msg, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("a misspelled field passed:\n%s", msg)
	}
	if !regexp.MustCompile(fmt.Sprintf(`master\.yaml:%d:.*job_storage_roots`, line)).Match(msg) {
		t.Errorf("the error does not name line %d and the field:\n%s", line, msg)
	}
}
