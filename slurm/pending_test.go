package slurm

import "testing"

func TestExplainPending(t *testing.T) {
	for _, c := range []struct{ reason, qos, want string }{
		{"QOSMaxGRESPerUser", "interactive", "QOSMaxGRESPerUser: your GPU limit under QOS interactive is reached"},
		{"Resources", "normal", "Resources: waiting for GPUs, CPUs or memory to free up"},
		{"launch failed requeued held", "", "launch failed requeued held: its launch failed; an administrator must release it"},
		{"SomethingNew", "", "SomethingNew"},
		{"None", "", "None"},
	} {
		if got := ExplainPending(c.reason, c.qos); got != c.want {
			t.Errorf("ExplainPending(%q, %q) = %q, want %q", c.reason, c.qos, got, c.want)
		}
	}
}
