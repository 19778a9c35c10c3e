package slurm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Job is what Slurm says about one job.
type Job struct {
	ID     string
	Name   string
	State  string // PENDING, RUNNING, COMPLETING, COMPLETED, CANCELLED, FAILED, TIMEOUT, NODE_FAIL, PREEMPTED, OUT_OF_MEMORY, ...
	Reason string // pending reason, "None" when none
	// NodeList is the job's nodes as Slurm prints them ("n[01-02]");
	// Nodes is that list expanded, nil when NodesErr says it could not be
	// read.
	NodeList  string
	Nodes     []string
	NodesErr  error
	StartTime time.Time // estimated while pending; zero when unknown
	// TimeLeft is the walltime left while running; -1 when unlimited or
	// unknown.
	TimeLeft time.Duration
	User     string
	QOS      string
	// Cluster is the Slurm cluster the job is in, where the caller that
	// asked knows it ("" the local one); this package never sets it.
	Cluster string
	// Err is set when Slurm's record of the job could not be read: only
	// ID is known, and the job's state is unknown this time (it is not
	// gone).
	Err error
}

// Node is one compute node.
type Node struct {
	Name       string
	Partitions []string
	Default    bool // in the cluster's default partition
	// DefaultPartition is the name of that partition when Default is set
	// (a node can be in several partitions, the default one not first).
	DefaultPartition string
	Addr             string
	CPUs             int
	CPUsAlloc        int
	GPUs             int
	GPUsUsed         int
	GPUType          string
	State            string
	// Cluster is the Slurm cluster of the node, where the caller that
	// asked knows it ("" the local one); this package never sets it.
	Cluster string
}

// DefaultPartition is the partition marked default in sinfo, or "".
func DefaultPartition(nodes []Node) string {
	for _, n := range nodes {
		switch {
		case n.Default && n.DefaultPartition != "":
			return n.DefaultPartition
		case n.Default && len(n.Partitions) > 0:
			return n.Partitions[0]
		}
	}
	return ""
}

// SubmitRequest is one sbatch call.
type SubmitRequest struct {
	User   string // POSIX user the job runs as
	Script string // path of the batch script (sbatch reads it)
	// Text is the batch script itself, for interfaces that send the text
	// (slurmrestd); the CLI ignores it.
	Text string
	Args []string // sbatch options, each one argv element
}

// CLI implements the bridge's view of Slurm with the command-line tools.
type CLI struct {
	Runner Runner
	// Env is the environment every command gets (SLURM_CONF, PATH).
	Env []string
	// Timeout bounds each command; zero means 15 s.
	Timeout time.Duration
	// Cluster, when set, is the Slurm cluster every command is sent to
	// (-M Cluster), through the slurmdbd the local slurm.conf names; ""
	// is the local cluster, with no -M.
	Cluster string

	// marker returns squeue's record marker; nil means newMarker (tests
	// set a fixed one).
	marker func() string
}

// NewCLI returns a CLI that runs real commands with env.
func NewCLI(env []string) *CLI {
	return &CLI{Runner: ExecRunner{}, Env: env, Timeout: 15 * time.Second}
}

// run runs cmd with the CLI's timeout; cmd.Env nil means c.Env.
func (c *CLI) run(ctx context.Context, cmd Cmd) ([]byte, error) {
	t := c.Timeout
	if t == 0 {
		t = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, t)
	defer cancel()
	if cmd.Env == nil {
		cmd.Env = c.Env
	}
	if c.Cluster == "" {
		return c.Runner.Run(ctx, cmd)
	}
	cmd.Args = append([]string{"-M", c.Cluster}, cmd.Args...)
	out, err := c.Runner.Run(ctx, cmd)
	return DropClusterHeaders(out), err
}

// Submit runs sbatch --parsable and returns the job id (sbatch -M prints
// "id;cluster").
func (c *CLI) Submit(ctx context.Context, r SubmitRequest) (string, error) {
	args := append([]string{"--parsable"}, r.Args...)
	args = append(args, r.Script)
	out, err := c.run(ctx, Cmd{Name: "sbatch", Args: args, User: r.User})
	if err != nil {
		return "", fmt.Errorf("submit batch job: %w", err)
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	if _, err := strconv.Atoi(id); err != nil {
		return "", fmt.Errorf("submit batch job: sbatch printed no job id but %q", out)
	}
	return id, nil
}

// Cancel runs scancel for the job. Cancelling a finished job is not an
// error.
func (c *CLI) Cancel(ctx context.Context, id string) error {
	if _, err := c.run(ctx, Cmd{Name: "scancel", Args: []string{id}}); err != nil {
		var ce *CommandError
		if errors.As(err, &ce) && (strings.Contains(ce.Stderr, "already completing or completed") || strings.Contains(ce.Stderr, "Invalid job id")) {
			return nil
		}
		return fmt.Errorf("cancel job %s: %w", id, err)
	}
	return nil
}

// sinfoFormat: node, partition, address, CPUs alloc/idle/other/total,
// GRES, GRES in use, state; every field ends with "|".
const sinfoFormat = "NodeList:|,Partition:|,NodeAddr:|,CPUsState:|,Gres:|,GresUsed:|,StateLong:|"

// Nodes lists every node with its partitions, address, CPUs and GPUs (in
// use and in all), in one sinfo call.
func (c *CLI) Nodes(ctx context.Context) ([]Node, error) {
	out, err := c.run(ctx, Cmd{Name: "sinfo", Args: []string{"-h", "-N", "-O", sinfoFormat}})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return ParseSinfo(out)
}

// ParseSinfo parses `sinfo -N -O sinfoFormat` output; a node in several
// partitions is listed once per partition and merged here.
func ParseSinfo(out []byte) ([]Node, error) {
	var nodes []Node
	index := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(strings.TrimSuffix(line, "|"), "|")
		if len(f) != 7 {
			return nil, fmt.Errorf("sinfo: unexpected line %q", line)
		}
		part := strings.TrimSuffix(f[1], "*")
		def := ""
		if strings.HasSuffix(f[1], "*") {
			def = part
		}
		if i, ok := index[f[0]]; ok {
			nodes[i].Partitions = append(nodes[i].Partitions, part)
			if def != "" {
				nodes[i].Default, nodes[i].DefaultPartition = true, def
			}
			continue
		}
		n := Node{Name: f[0], Partitions: []string{part}, Default: def != "", DefaultPartition: def, Addr: f[2], State: f[6]}
		if cs := strings.Split(f[3], "/"); len(cs) == 4 {
			n.CPUsAlloc, _ = strconv.Atoi(cs[0])
			n.CPUs, _ = strconv.Atoi(cs[3])
		}
		n.GPUs, n.GPUType = ParseGres(f[4])
		n.GPUsUsed, _ = ParseGres(f[5])
		index[n.Name] = len(nodes)
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// ParseGres reads "gpu:a100:4", "gpu:4" or "gpu:a100:4(S:0)" lists.
func ParseGres(s string) (int, string) {
	total, typ := 0, ""
	for _, g := range strings.Split(s, ",") {
		g, _, _ = strings.Cut(g, "(")
		f := strings.Split(g, ":")
		if f[0] != "gpu" || len(f) < 2 {
			continue
		}
		n, err := strconv.Atoi(f[len(f)-1])
		if err != nil {
			continue
		}
		total += n
		if len(f) == 3 {
			typ = f[1]
		}
	}
	return total, typ
}

// BaseEnv returns the environment Slurm commands get: PATH and SLURM_CONF
// from this process, plus extra.
func BaseEnv(extra map[string]string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
	if v, ok := os.LookupEnv("SLURM_CONF"); ok {
		env = append(env, "SLURM_CONF="+v)
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// ErrNoAccounting is returned by Finished when the cluster keeps no
// accounting (sacct says accounting storage is disabled).
var ErrNoAccounting = errors.New("slurm accounting is disabled")

// Finished asks sacct for a job's final state and exit code, for jobs that
// squeue has forgotten. It returns ErrNoAccounting on clusters without
// accounting, and an empty state when sacct does not know the job.
func (c *CLI) Finished(ctx context.Context, id string) (string, int, error) {
	out, err := c.run(ctx, Cmd{Name: "sacct", Args: []string{"-n", "-P", "-X", "-j", id, "-o", "State,ExitCode"}})
	if err != nil {
		var ce *CommandError
		if errors.As(err, &ce) && strings.Contains(ce.Stderr, "accounting storage is disabled") {
			return "", 0, ErrNoAccounting
		}
		return "", 0, fmt.Errorf("ask accounting about job %s: %w", id, err)
	}
	return ParseSacct(out)
}

// ParseSacct reads `sacct -n -P -X -o State,ExitCode` output for one job.
func ParseSacct(out []byte) (string, int, error) {
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if line == "" {
		return "", 0, nil
	}
	state, exit, ok := strings.Cut(line, "|")
	if !ok {
		return "", 0, fmt.Errorf("sacct: unexpected line %q", line)
	}
	state, _, _ = strings.Cut(state, " ") // "CANCELLED by 2001"
	code, _, _ := strings.Cut(exit, ":")
	n, _ := strconv.Atoi(code)
	return state, n, nil
}
