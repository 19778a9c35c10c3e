package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/slurm"
)

// TestNodeNames: the dev cluster's GPU nodes are named as InfiniBand hosts
// often are, with a number inside the name and a suffix after it, so every
// test runs on such names; the list Slurm prints for the partition reads,
// with the bridge's parser, as the nodes sinfo lists one by one and as
// scontrol expands it; and a GPU notebook reaches RUNNING on one of them
// (its ready callback passed the allocation check).
func TestNodeNames(t *testing.T) {
	c := cluster(t)
	list := strings.TrimSpace(run(t, "sinfo", "-h", "-p", "gpu", "-o", "%N"))
	names, err := slurm.ExpandHostlist(list)
	if err != nil {
		t.Fatal(err)
	}
	each := strings.Fields(run(t, "sinfo", "-h", "-p", "gpu", "-N", "-o", "%N"))
	slurmNames := strings.Fields(run(t, "scontrol", "show", "hostnames", list))
	if !slices.Equal(names, slurmNames) || !slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(each))) {
		t.Fatalf("partition gpu prints %q: read as %q; scontrol reads %q; sinfo -N lists %q", list, names, slurmNames, each)
	}
	inside := regexp.MustCompile(`[0-9][^0-9]+$`)
	for _, n := range names {
		if !inside.MatchString(n) {
			t.Errorf("GPU node %q has no number inside its name with a suffix after it (devcluster/lib.sh GPU_NODES)", n)
		}
	}
	nb := start(t, c, map[string]any{"resources": map[string]any{"slots": 1}})
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	if !slices.Contains(names, nb.Node) {
		t.Errorf("notebook runs on %q, not on a node of partition gpu %q", nb.Node, names)
	}
}
