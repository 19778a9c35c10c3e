package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesBadConfig: det-bridge (on its own and as serve) reads
// --config and --proxy-mode, and refuses a bad site config naming the
// field, or a bad --proxy-mode, before it opens the database or asks
// Slurm anything.
func TestServeRefusesBadConfig(t *testing.T) {
	good := writeSite(t)
	dir := filepath.Dir(good)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, append(data, "proxy_mod: direct\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", bad}, "proxy_mod"},
		{[]string{"--config", bad, "--proxy-mode", "direct"}, "proxy_mod"},
		{[]string{"serve", "--config", bad}, "proxy_mod"},
		{[]string{"--config", good, "--proxy-mode", "sideways"}, `--proxy-mode: "sideways" is not tunnel or direct`},
		{[]string{"serve", "--proxy-mode", "sideways", "--config", good}, `--proxy-mode: "sideways" is not tunnel or direct`},
		{[]string{"--config", filepath.Join(dir, "none.yaml")}, "none.yaml"},
	} {
		_, _, err := execute(t, "", c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want it to name %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bridge.db")); !os.IsNotExist(err) {
		t.Errorf("a refused config opened the database: %v", err)
	}
}
