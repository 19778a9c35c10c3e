package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckConfigSiteConfigs: every site config in site-configs passes
// check-config --offline, given as an argument or as --config.
func TestCheckConfigSiteConfigs(t *testing.T) {
	files, err := filepath.Glob("../../site-configs/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no site configs: %v", err)
	}
	for _, f := range files {
		for _, args := range [][]string{{"check-config", "--offline", f}, {"check-config", "--config", f, "--offline"}} {
			out, errOut, err := execute(t, "", args...)
			if err != nil || !strings.HasSuffix(out, f+": OK\n") {
				t.Errorf("%v: %v\n%s%s", args, err, out, errOut)
			}
		}
	}
}

// TestCheckConfigMaster: check-config on a master.yaml prints one line per
// field mapped, then what it prints for any site config.
func TestCheckConfigMaster(t *testing.T) {
	file := "../../site-configs/devcluster-master.yaml"
	out, errOut, err := execute(t, "", "check-config", "--offline", file)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	for _, want := range []string{
		file + ": a Determined master.yaml; its fields map to these bridge settings:\n",
		"\n  resource_manager.job_storage_root -> job_storage_root = ",
		"\n  resource_manager.user_name -> unused (drives Determined's launcher",
		"\n" + file + ": OK\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "job_storage_root ->") > strings.Index(out, ": OK") {
		t.Errorf("the mapping comes first:\n%s", out)
	}
	own, _, err := execute(t, "", "check-config", "--offline", "../../site-configs/devcluster.yaml")
	if err != nil || strings.Contains(own, "->") {
		t.Errorf("own format: %v\n%s", err, own)
	}
}

// TestCheckConfigMissingPaths: offline, the paths that do not exist are
// warnings on the error stream; a config that does not parse is refused.
func TestCheckConfigMissingPaths(t *testing.T) {
	cfg := writeSite(t)
	out, errOut, err := execute(t, "", "check-config", "--offline", cfg)
	if err != nil || !strings.Contains(errOut, cfg+": warning: ") || !strings.Contains(out, cfg+": OK") || strings.Contains(out, "warning") {
		t.Errorf("%v\nout: %s\nerr: %s", err, out, errOut)
	}
	if _, _, err := execute(t, "", "check-config", "--offline", cfg+".none"); err == nil {
		t.Error("a missing file passed")
	}
}
