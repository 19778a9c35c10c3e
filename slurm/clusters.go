package slurm

import (
	"bytes"
	"regexp"
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
