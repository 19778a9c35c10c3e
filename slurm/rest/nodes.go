package rest

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/det-slurm/bridge/slurm"
)

// nodeRecord is the part of a v0.0.38 node the bridge reads.
type nodeRecord struct {
	Name       string   `json:"name"`
	Address    string   `json:"address"`
	State      string   `json:"state"`
	StateFlags []string `json:"state_flags"`
	Partitions []string `json:"partitions"`
	CPUs       int      `json:"cpus"`
	AllocCPUs  int      `json:"alloc_cpus"`
	Gres       string   `json:"gres"`
	GresUsed   string   `json:"gres_used"`
}

type partitionRecord struct {
	Name  string   `json:"name"`
	Flags []string `json:"flags"`
}

// Nodes lists every node as sinfo does for ParseSinfo: partitions (the
// default one marked), address, CPUs, GPUs and state. Two requests:
// nodes, then partitions for the default one.
func (c *Client) Nodes(ctx context.Context) ([]slurm.Node, error) {
	var nr struct {
		Nodes []nodeRecord `json:"nodes"`
	}
	if err := c.call(ctx, "GET", apiPath+"/nodes/", c.cfg.User, nil, &nr, ""); err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var pr struct {
		Partitions []partitionRecord `json:"partitions"`
	}
	if err := c.call(ctx, "GET", apiPath+"/partitions/", c.cfg.User, nil, &pr, ""); err != nil {
		return nil, fmt.Errorf("list partitions: %w", err)
	}
	def := ""
	for _, p := range pr.Partitions {
		if slices.ContainsFunc(p.Flags, func(f string) bool { return strings.EqualFold(f, "default") }) {
			def = p.Name
		}
	}
	nodes := make([]slurm.Node, 0, len(nr.Nodes))
	for _, r := range nr.Nodes {
		n := slurm.Node{
			Name: r.Name, Partitions: r.Partitions, Addr: r.Address, CPUs: r.CPUs, CPUsAlloc: r.AllocCPUs,
			State: sinfoState(r.State, r.StateFlags),
		}
		if def != "" && slices.Contains(r.Partitions, def) {
			n.Default, n.DefaultPartition = true, def
		}
		n.GPUs, n.GPUType = slurm.ParseGres(r.Gres)
		n.GPUsUsed, _ = slurm.ParseGres(r.GresUsed)
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// stateSuffixes are the marks sinfo's long state gets for flags.
var stateSuffixes = []struct{ flag, mark string }{
	{"NOT_RESPONDING", "*"}, {"POWERED_DOWN", "~"}, {"POWERING_UP", "#"}, {"POWERING_DOWN", "%"},
	{"MAINTENANCE", "$"}, {"REBOOT_REQUESTED", "@"}, {"REBOOT_ISSUED", "@"},
}

// sinfoState gives a node's state as sinfo's StateLong prints it, from
// slurmrestd's base state (lowercase: idle, mixed, allocated, down, ...)
// and flags (DRAIN, FAIL, COMPLETING, NOT_RESPONDING, ...).
func sinfoState(base string, flags []string) string {
	base = strings.ToLower(base)
	has := func(f string) bool {
		return slices.ContainsFunc(flags, func(g string) bool { return strings.EqualFold(g, f) })
	}
	busy := base == "allocated" || base == "mixed" || has("COMPLETING")
	st := base
	switch {
	case has("DRAIN") && busy:
		st = "draining"
	case has("DRAIN"):
		st = "drained"
	case has("FAIL") && busy:
		st = "failing"
	case has("FAIL"):
		st = "fail"
	case has("COMPLETING") && base != "down":
		st = "completing"
	}
	for _, s := range stateSuffixes {
		if has(s.flag) {
			return st + s.mark
		}
	}
	return st
}
