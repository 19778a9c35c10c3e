package siteconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const good = `
db_path: ../state/bridge.db
job_storage_root: /srv/jobs
launcher_path: ../bin/det-launcher
resource_pools:
  - name: gpu
    partition: gpu
    gpu: {gres: gpu, type: a100}
  - name: cpu
    partition: cpu
default_aux_pool: cpu
`

func TestParse(t *testing.T) {
	c, err := Parse([]byte(good), "/etc/det/site")
	if err != nil {
		t.Fatal(err)
	}
	if c.DBPath != "/etc/det/state/bridge.db" || c.LauncherPath != "/etc/det/bin/det-launcher" {
		t.Fatalf("relative paths: %s %s", c.DBPath, c.LauncherPath)
	}
	if c.ContainerRuntime.Binary != "apptainer" {
		t.Fatalf("binary on PATH must stay a bare name: %q", c.ContainerRuntime.Binary)
	}
	if c.DefaultPool(1) != "gpu" || c.DefaultPool(0) != "cpu" {
		t.Fatalf("default pools %s %s", c.DefaultPool(1), c.DefaultPool(0))
	}
	if c.MinUID != DefaultMinUID {
		t.Fatalf("min_uid defaults to %d", c.MinUID)
	}
	if c, err := Parse([]byte(good+"min_uid: 500\n"), "/x"); err != nil || c.MinUID != 500 {
		t.Fatalf("min_uid 500: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ doc, want string }{
		{good + "bogus: 1\n", "line 12: field bogus not found"},
		{strings.Replace(good, "partition: cpu", "partition: \"\"", 1), "resource_pools[1].partition"},
		{good + "default_compute_pool: nope\n", "default_compute_pool"},
		{good + "reconcile_interval: fast\n", "reconcile_interval"},
		{good + "min_uid: -1\n", "min_uid: -1 is negative"},
		{strings.Replace(good, "db_path: ../state/bridge.db", "", 1), "db_path: required"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc), "/x")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// TestExampleConfigs: every shipped site config parses; missing paths are
// only warnings here (check-config --offline).
func TestExampleConfigs(t *testing.T) {
	files, _ := filepath.Glob("../site-configs/*.yaml")
	if len(files) < 4 {
		t.Fatalf("expected the dev config and three examples, found %v", files)
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestBadYAML(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"db_path: x\n\tjob_storage_root: y\n", "line 2"},
		{good + "reconcile_interval: [1, 2]\n", "line 12"},
		{strings.Replace(good, "  - name: cpu", "  - name: cpu\n    gpus: 3", 1), "line 10: field gpus not found"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc), "/x")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

func TestLoadFileLine(t *testing.T) {
	f := filepath.Join(t.TempDir(), "site.yaml")
	os.WriteFile(f, []byte(good+"bogus: 1\n"), 0o644)
	_, err := Load(f)
	if err == nil || !strings.Contains(err.Error(), f+":12: field bogus not found") {
		t.Fatalf("got %v", err)
	}
}
