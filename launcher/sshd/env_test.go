package sshd

import "testing"

func TestEnvAllowed(t *testing.T) {
	for _, c := range []struct {
		name, value string
		want        bool
	}{
		{"LANG", "C.UTF-8", true},
		{"LC_CTYPE", "C.UTF-8", true},
		{"TERM", "xterm", true},
		{"VSCODE_AGENT_FOLDER", "/tmp/x", true},
		{"LC_", "x", false},
		{"LD_LIBRARY_PATH", "/tmp", false},
		{"PATH", "/tmp", false},
		{"PYTHONSTARTUP", "x", false},
		{"LANG", "a\x00b", false},
		{"LC_X=Y", "x", false},
		{"1LC", "x", false},
		{"", "x", false},
	} {
		if got := envAllowed(c.name, c.value); got != c.want {
			t.Errorf("envAllowed(%q, %q) = %v", c.name, c.value, got)
		}
	}
}
