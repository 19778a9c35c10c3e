package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// execute runs det-bridge with args in-process, stdin as its input, and
// returns what it wrote to its output and error streams.
func execute(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRoot(streams{in: strings.NewReader(stdin), out: &out, err: &errOut})
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// writeSite writes a minimal site config with its database in a new
// folder, and returns the config's path.
func writeSite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "site.yaml")
	yaml := "db_path: " + filepath.Join(dir, "bridge.db") + "\njob_storage_root: " + dir + "/jobs\nlauncher_path: /opt/det/det-launcher\nresource_pools: [{name: cpu, partition: cpu}]\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestUsageErrors: a command without what it needs is refused, naming
// the missing flag or argument, before it reads anything.
func TestUsageErrors(t *testing.T) {
	for args, want := range map[string]string{
		"":                            "--config SITE.yaml is required",
		"--proxy-mode direct":         "--config SITE.yaml is required",
		"serve":                       "serve: --config SITE.yaml is required",
		"orphans --cancel":            "orphans: --config SITE.yaml is required",
		"set-password --config x":     "set-password: the USER argument is missing",
		"set-password admin":          "set-password: --config SITE.yaml is required",
		"set-password --config x a b": `set-password: unexpected argument "b"`,
		"audit --json":                "audit: --config SITE.yaml is required",
		"audit --config x extra":      `audit: unexpected argument "extra"`,
		"check-config --offline":      "check-config: the SITE.yaml argument is missing",
		"orphans --bogus":             "unknown flag: --bogus",
		"serve extra":                 `unknown command "extra" for "det-bridge serve"`,
		"nonsense":                    `unknown command "nonsense" for "det-bridge"`,
	} {
		_, _, err := execute(t, "", strings.Fields(args)...)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
	if _, _, err := execute(t, "", "set-password", "admin"); err == nil || !strings.Contains(err.Error(), "(usage: det-bridge set-password --config SITE.yaml USER)") {
		t.Errorf("a usage error without the usage line: %v", err)
	}
}

// TestCompletion: cobra's shell completion covers every subcommand.
func TestCompletion(t *testing.T) {
	out, _, err := execute(t, "", "completion", "bash")
	if err != nil || !strings.Contains(out, "__start_det-bridge") {
		t.Fatalf("completion bash: %v\n%.200s", err, out)
	}
	out, _, err = execute(t, "", "__complete", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"serve", "check-config", "orphans", "set-password", "audit", "completion"} {
		if !strings.Contains(out, "\n"+sub+"\t") && !strings.HasPrefix(out, sub+"\t") {
			t.Errorf("the completion of subcommands lacks %s:\n%s", sub, out)
		}
	}
	if out, _, _ := execute(t, "", "__complete", "serve", "--proxy-mode", ""); !strings.Contains(out, "tunnel\ndirect\n") {
		t.Errorf("--proxy-mode completes to:\n%s", out)
	}
}
