package serve

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/det-slurm/bridge/slurm"
)

// The benchmark cluster's one node: where every seeded tunnel task's job
// runs, at the loopback address the benchmark's job ends dial from.
const (
	NodeName = "bench-node"
	NodeAddr = "127.0.0.1"
)

// fakeCluster answers the bridge's Slurm commands as a cluster with one
// node (NodeName, partition cpu, at NodeAddr) would, whose only jobs are
// the seeded tunnel tasks' jobs, all running on that node; sbatch fails.
// Going through slurm.CLI keeps the benchmark bridge's view of Slurm, and
// the tunnel route's check of the caller's node, the real ones.
type fakeCluster struct {
	jobs    map[string]string // job id -> job name
	started time.Time
}

var _ slurm.Runner = (*fakeCluster)(nil)

func (f *fakeCluster) Run(_ context.Context, c slurm.Cmd) ([]byte, error) {
	switch c.Name {
	case "sbatch":
		return nil, &slurm.CommandError{Cmd: c.String(), Stderr: "the benchmark bridge submits no jobs", Err: errors.New("exit status 1")}
	case "sinfo":
		return []byte(NodeName + "|cpu*|" + NodeAddr + "|0/2/0/2|(null)|(null)|idle|\n"), nil
	case "squeue":
		return f.squeue(c), nil
	}
	return nil, nil // scancel, sacct: nothing to say
}

// squeue prints, in the format its environment asks for, the records of
// the jobs asked for with -j (or every job), each running on NodeName.
func (f *fakeCluster) squeue(c slurm.Cmd) []byte {
	var format string
	for _, kv := range c.Env {
		if v, ok := strings.CutPrefix(kv, "SQUEUE_FORMAT="); ok {
			format = v
		}
	}
	var want []string
	for i, a := range c.Args {
		if a == "-j" && i+1 < len(c.Args) {
			want = strings.Split(c.Args[i+1], ",")
		}
	}
	if want == nil {
		for id := range f.jobs {
			want = append(want, id)
		}
	}
	fields := strings.Split(format, "|")
	var b strings.Builder
	for _, id := range want {
		name, ok := f.jobs[id]
		if !ok {
			continue
		}
		vals := map[string]string{
			"%i": id, "%T": "RUNNING", "%S": f.started.Format("2006-01-02T15:04:05"), "%L": "UNLIMITED",
			"%u": "alice", "%q": "normal", "%N": NodeName, "%r": "None", "%j": name,
		}
		rec := make([]string, len(fields))
		for k, fl := range fields {
			v, known := vals[fl]
			if !known {
				v = fl // the record's marker, or a field this fake does not know
			}
			rec[k] = v
		}
		fmt.Fprintln(&b, strings.Join(rec, "|"))
	}
	return []byte(b.String())
}

// cluster returns the benchmark's Slurm with the given jobs running.
func cluster(jobs map[string]string) *slurm.CLI {
	return &slurm.CLI{Runner: &fakeCluster{jobs: jobs, started: time.Now()}}
}
