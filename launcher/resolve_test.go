package launcher

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/det-slurm/bridge/jobspec"
)

func TestRunResolve(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := RunResolve(&out, []string{filepath.Join(dir, "link"), filepath.Join(dir, "missing")}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got []jobspec.ResolvedPath
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Real != real || got[0].Problem != "" || got[1].Real != "" || got[1].Problem == "" {
		t.Fatalf("%+v", got)
	}
}
