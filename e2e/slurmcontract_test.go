package e2e

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/det-slurm/bridge/bridge"
	"github.com/det-slurm/bridge/slurm"
	"github.com/det-slurm/bridge/slurm/rest"
)

// contractCluster is one of the dev cluster's Slurm clusters, reached as
// the bridge reaches it: the commands with the login node's slurm.conf
// (and -M for the second cluster), or the cluster's own slurmrestd.
type contractCluster struct {
	name, minusM, restAddr string
}

var contractClusters = []contractCluster{
	{"devcluster", "", "127.0.0.1:6820"},
	{"devcluster2", "devcluster2", "127.0.0.1:6821"},
}

// TestSlurmContract runs one suite against both implementations of the
// bridge's Slurm interface on each cluster of the dev cluster: what the
// bridge relies on must hold the same through sbatch & co. and through
// slurmrestd.
func TestSlurmContract(t *testing.T) {
	if os.Getenv("DET_E2E") == "" {
		t.Skip("end-to-end test: needs the dev cluster; run `make test` (sets DET_E2E=1)")
	}
	if os.Geteuid() != 0 {
		t.Skip("submits as alice: needs root, as the bridge")
	}
	if !tunnelMode() {
		t.Skip("Slurm's side does not depend on the proxy mode: the suite runs once, with the tunnel-mode run")
	}
	for _, cl := range contractClusters {
		t.Run(cl.name+"/cli", func(t *testing.T) {
			cli := slurm.NewCLI([]string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "SLURM_CONF=" + filepath.Join(state, "slurm.conf")})
			cli.Cluster = cl.minusM
			contract(t, cli)
		})
		t.Run(cl.name+"/rest", func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", cl.restAddr, 2*time.Second)
			if err != nil {
				t.Skipf("no slurmrestd for %s listens on %s: %v", cl.name, cl.restAddr, err)
			}
			conn.Close()
			c, err := rest.New(rest.Config{URL: "http://" + cl.restAddr, KeyFile: filepath.Join(state, "jwt_hs256.key"), User: "root"})
			if err != nil {
				t.Fatal(err)
			}
			contract(t, c)
		})
	}
}

// contractScript is what the contract's jobs run.
const contractScript = "#!/bin/sh\nsleep 600\n"

// contract is the suite: nodes and capacity, a GRES submit as alice found
// by its job name, a pending reason and an estimated start once the
// partition is full, time limits, cancel, and the accounting record.
func contract(t *testing.T, sl bridge.Slurm) {
	ctx := ctxT(t, 5*time.Minute)
	nodes, err := sl.Nodes(ctx)
	if err != nil {
		t.Fatalf("Nodes: %v", err)
	}
	part := slurm.DefaultPartition(nodes)
	gpus, capacity := 0, 0
	for _, n := range nodes {
		if slices.Contains(n.Partitions, part) && slurm.NodeUp(n.State) && n.GPUs > 0 {
			gpus = max(gpus, n.GPUs)
			capacity += n.GPUs
		}
	}
	if part == "" || gpus == 0 {
		t.Fatalf("no default partition with GPU nodes up: %+v", nodes)
	}
	t.Logf("partition %s: %d GPUs, at most %d on a node", part, capacity, gpus)

	dir, err := os.MkdirTemp("", "slurmcontract-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	scriptPath := filepath.Join(dir, "job.sh")
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scriptPath, []byte(contractScript), 0o755); err != nil {
		t.Fatal(err)
	}
	submit := func(n int) (id, name string) {
		name = slurm.JobName("notebook", uuid.NewString())
		args := []string{"--job-name=" + name, "--partition=" + part, "--nodes=1", "--ntasks=1", "--time=10",
			"--output=" + filepath.Join(dir, name+".log"), "--chdir=" + dir, slurm.GresArg("gpu", "", n), "--no-requeue"}
		id, err := sl.Submit(ctx, slurm.SubmitRequest{User: "alice", Script: scriptPath, Text: contractScript, Args: args})
		if err != nil {
			t.Fatalf("submit as alice with %d GPUs: %v", n, err)
		}
		t.Cleanup(func() { _ = sl.Cancel(context.Background(), id) })
		return id, name
	}

	// A job that fits runs; it is found by the bridge's job name.
	first, firstName := submit(1)
	active, err := sl.Active(ctx)
	if err != nil {
		t.Fatalf("Active: %v", err)
	}
	if i := slices.IndexFunc(active, func(j slurm.Job) bool { return j.Name == firstName }); i < 0 || active[i].ID != first || active[i].User != "alice" {
		t.Fatalf("job %s (%s) not listed by Active as alice's: %+v", first, firstName, active)
	}
	j := waitJob(t, sl, first, func(j slurm.Job) bool { return j.State == "RUNNING" })
	if len(j.Nodes) != 1 || j.User != "alice" || j.TimeLeft <= 0 || j.TimeLeft > 10*time.Minute {
		t.Errorf("running job: %+v", j)
	}

	// Time limits: read, raise as the operator, read back.
	lim, err := sl.TimeLimit(ctx, first)
	if err != nil || lim.State != "RUNNING" || lim.Limit != 10*time.Minute {
		t.Fatalf("TimeLimit: %+v, %v", lim, err)
	}
	if err := sl.SetTimeLimit(ctx, first, 12*time.Minute); err != nil {
		t.Fatalf("SetTimeLimit: %v", err)
	}
	if lim, err := sl.TimeLimit(ctx, first); err != nil || lim.Limit != 12*time.Minute {
		t.Errorf("limit after raising: %+v, %v", lim, err)
	}

	// Fill the partition: the last job pends with a reason, and gets an
	// estimated start from the backfill scheduler.
	var last string
	for range capacity/gpus + 1 {
		last, _ = submit(gpus)
	}
	j = waitJob(t, sl, last, func(j slurm.Job) bool {
		return j.State == "PENDING" && j.Reason != "None" && j.Reason != "" && !j.StartTime.IsZero()
	})
	t.Logf("pending: %s, estimated start %s", slurm.ExplainPending(j.Reason, j.QOS), j.StartTime)

	// Cancel: the job ends; cancelling it again is no error.
	if err := sl.Cancel(ctx, first); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	waitJob(t, sl, first, func(j slurm.Job) bool { return j.State == "CANCELLED" || j.ID == "" })
	if err := sl.Cancel(ctx, first); err != nil {
		t.Errorf("cancelling an ended job: %v", err)
	}

	// Accounting has the record after the end.
	deadline := time.Now().Add(time.Minute)
	for {
		st, _, err := sl.Finished(ctx, first)
		if errors.Is(err, slurm.ErrNoAccounting) {
			t.Log("no accounting on this cluster")
			return
		}
		if err == nil && strings.HasPrefix(st, "CANCELLED") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("accounting of job %s: %q, %v; want CANCELLED", first, st, err)
		}
		time.Sleep(2 * time.Second)
	}
}

// waitJob polls Query until ok holds for the job (a zero Job when Slurm
// forgot it), for up to two minutes (the backfill scheduler runs every
// 30 s by default).
func waitJob(t *testing.T, sl bridge.Slurm, id string, ok func(slurm.Job) bool) slurm.Job {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		jobs, err := sl.Query(ctxT(t, 20*time.Second), []string{id})
		j := jobs[id]
		if err == nil && j.Err == nil && ok(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: %+v, %v", id, j, err)
		}
		time.Sleep(time.Second)
	}
}
