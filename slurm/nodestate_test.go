package slurm

import "testing"

func TestNodeUp(t *testing.T) {
	for state, want := range map[string]bool{
		"idle": true, "mixed": true, "allocated": true, "completing": true, "idle*": true,
		"down": false, "down*": false, "drained": false, "draining": false, "fail": false,
		"idle+drain": false, "unknown": false, "future": false, "maint": false, "reboot_issued": false,
		"powered_down": false, "not_responding": false, "MIXED": true, "IDLE~": true,
	} {
		if got := NodeUp(state); got != want {
			t.Errorf("NodeUp(%q) = %v, want %v", state, got, want)
		}
	}
}

func TestMaxGPUs(t *testing.T) {
	for _, c := range []struct {
		nodes []Node
		want  int
	}{
		{nil, 0},
		{[]Node{{GPUs: 0}}, 0},
		{[]Node{{GPUs: 2}, {GPUs: 4}, {GPUs: 1}}, 4},
	} {
		if got := MaxGPUs(c.nodes); got != c.want {
			t.Errorf("MaxGPUs(%v) = %d, want %d", c.nodes, got, c.want)
		}
	}
}
