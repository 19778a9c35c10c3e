package slurm

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
)

// clusterHeader is the line squeue and sinfo print before each cluster's
// block when given -M, even with -h (Slurm 22.05): "CLUSTER: name".
var clusterHeader = regexp.MustCompile(`^CLUSTER: [A-Za-z0-9_-]+$`)

// DropClusterHeaders removes the "CLUSTER: <name>" lines that commands
// run with -M print, so the output reads as it does without -M. Only
// whole lines of that shape go; the rest stays byte for byte.
func DropClusterHeaders(out []byte) []byte {
	if !bytes.Contains(out, []byte("CLUSTER: ")) {
		return out
	}
	var kept []byte
	for len(out) > 0 {
		line, rest, found := bytes.Cut(out, []byte("\n"))
		if !clusterHeader.Match(line) {
			kept = append(kept, line...)
			if found {
				kept = append(kept, '\n')
			}
		}
		out = rest
	}
	return kept
}

// ClusterName asks Slurm for the ClusterName of the cluster the CLI talks
// to (`scontrol show config`).
func (c *CLI) ClusterName(ctx context.Context) (string, error) {
	out, err := c.run(ctx, Cmd{Name: "scontrol", Args: []string{"show", "config"}})
	if err != nil {
		return "", err
	}
	return ParseClusterName(out)
}

// ParseClusterName reads ClusterName from `scontrol show config` output.
func ParseClusterName(out []byte) (string, error) {
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == "ClusterName" {
			if name := strings.TrimSpace(v); ValidClusterName(name) {
				return name, nil
			}
			return "", fmt.Errorf("scontrol show config: ClusterName %q is not a cluster name", strings.TrimSpace(v))
		}
	}
	return "", fmt.Errorf("scontrol show config names no ClusterName")
}

// ValidClusterName reports whether s can be a Slurm ClusterName as -M
// takes it: letters, digits, - and _, at most 64.
func ValidClusterName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
