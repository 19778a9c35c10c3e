package slurm

import "strings"

// NodeUp reports whether a node in this sinfo state can run jobs.
func NodeUp(state string) bool {
	st := strings.TrimRight(strings.ToLower(state), "*~#!%$@^-")
	for _, bad := range []string{"down", "drain", "fail", "not_responding", "unknown", "future", "maint", "reboot", "power"} {
		if strings.Contains(st, bad) {
			return false
		}
	}
	return true
}

// MaxGPUs is the most GPUs any of the nodes has.
func MaxGPUs(nodes []Node) int {
	most := 0
	for _, n := range nodes {
		most = max(most, n.GPUs)
	}
	return most
}
