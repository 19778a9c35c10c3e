package bridge

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/det-slurm/bridge/taskconfig"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestPreviewGolden merges each testdata/preview/*.yaml (a user config)
// with the harness site's defaults and compares with its .golden file.
func TestPreviewGolden(t *testing.T) {
	h := newHarness(t)
	h.srv.cfg.ContainerRuntime.Type = "apptainer" // the inputs name images
	inputs, _ := filepath.Glob("testdata/preview/*.yaml")
	if len(inputs) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			user, err := taskconfig.ParseYAML(data)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			cfg, _, err := h.srv.resolveConfig(user)
			if err != nil {
				got = "error: " + err.Error() + "\n"
			} else {
				out, _ := yaml.Marshal(cfg)
				got = string(out)
			}
			golden := strings.TrimSuffix(in, ".yaml") + ".golden"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, _ := os.ReadFile(golden)
			if got != string(want) {
				t.Errorf("%s:\ngot:\n%s\nwant:\n%s", in, got, want)
			}
		})
	}
}
