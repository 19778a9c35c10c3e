package slurm

import (
	"fmt"
	"strings"
)

// RenderScript renders the fixed batch script that runs the launcher with
// the task's spec. Only the two paths vary, and both are bridge-made;
// user-given values travel in the spec file, never in shell text.
func RenderScript(launcher, spec string) (string, error) {
	for _, p := range []string{launcher, spec} {
		if !safePath(p) {
			return "", fmt.Errorf("render batch script: path %q has characters a script may not carry", p)
		}
	}
	return "#!/bin/sh\n" +
		"# Written by det-bridge: runs the notebook's launcher; all settings are in the spec file.\n" +
		"exec '" + launcher + "' run --spec '" + spec + "'\n", nil
}

// safePath accepts absolute paths made of characters that need no quoting
// beyond single quotes.
func safePath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for _, c := range p {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/._-+@", c)
		if !ok {
			return false
		}
	}
	return true
}

// GresArg returns the --gres option for n GPUs of the given GRES name and
// type ("" for any type), or "" for n == 0.
func GresArg(name, typ string, n int) string {
	if n <= 0 {
		return ""
	}
	if name == "" {
		name = "gpu"
	}
	if typ != "" {
		return fmt.Sprintf("--gres=%s:%s:%d", name, typ, n)
	}
	return fmt.Sprintf("--gres=%s:%d", name, n)
}
