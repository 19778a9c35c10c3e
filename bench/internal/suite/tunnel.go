package suite

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"time"

	"github.com/det-slurm/bridge/bench/internal/benchbridge"
	"github.com/det-slurm/bridge/bench/internal/proc"
	"github.com/det-slurm/bridge/bench/internal/report"
	"github.com/det-slurm/bridge/bench/internal/tunneljob"
)

// tunnelPath is the proxy path of the i-th tunnel notebook.
func tunnelPath(i int) string { return "/proxy/" + benchbridge.TunnelTaskID(i) + "/" }

// startTunnelPath starts a benchmark bridge whose store holds n running
// notebooks in tunnel mode, and their jobs' end (benchrun tunnel-job),
// which opens the n tunnels to it, as det-launcher would, and joins every
// connection through them to backend (host:port). It returns once every
// tunnel is open.
func (e *env) startTunnelPath(ctx context.Context, name, backend string, n int) (*benchBridge, *proc.Proc, error) {
	secret, err := randomHex(16)
	if err != nil {
		return nil, nil, err
	}
	br, err := e.startBridge(ctx, name, "-tunnels", fmt.Sprint(n), "-tunnel-secret", secret)
	if err != nil {
		return nil, nil, err
	}
	job, err := e.startTunnelJob(ctx, name+"-job", br, secret, backend, n)
	if err != nil {
		return nil, nil, err
	}
	return br, job, nil
}

// startTunnelJob starts the job end of br's first n tunnel notebooks and
// waits until all their tunnels are open.
func (e *env) startTunnelJob(ctx context.Context, name string, br *benchBridge, secret, backend string, n int) (*proc.Proc, error) {
	job, logPath, err := e.start(name, nil, e.exe, "tunnel-job", "-bridge", "http://"+br.addr, "-secret", secret,
		"-backend", backend, "-n", fmt.Sprint(n))
	if err != nil {
		return nil, err
	}
	if _, err := proc.WaitLine(job, logPath, tunneljob.Ready, 60*time.Second); err != nil {
		return nil, fmt.Errorf("tunnels of %s: %w (logs in %s)", br.addr, err, filepath.Dir(logPath))
	}
	return job, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// pick returns copies of rows with only the values of cols, so that one
// measurement of all the paths can fill tables of different columns.
func pick(rows []report.Row, cols []string) []report.Row {
	out := make([]report.Row, len(rows))
	for i, r := range rows {
		r.Values = map[string]float64{}
		for _, c := range cols {
			if v, ok := rows[i].Values[c]; ok {
				r.Values[c] = v
			}
		}
		out[i] = r
	}
	return out
}

// tunnelNote says what the tunnel column is, for the tunnel-mode tables.
const tunnelNote = "tunnel = a second benchmark bridge, configured as the first, whose store holds a running notebook in tunnel mode: " +
	"a separate process playing its job (benchrun tunnel-job: tunnel.Dialer.Run, as det-launcher runs it) opened the tunnel on the " +
	"bridge's real tunnel route (GET /api/v1/tasks/<id>/tunnel with the task's secret, accepted because the bridge's Slurm, a fake " +
	"answering squeue and sinfo, puts the job on a node whose NodeAddr is 127.0.0.1), and joins each stream the bridge opens to a new " +
	"TCP connection to the same static backend (det-launcher joins them to Jupyter's Unix socket; the copying is the same). " +
	"bridge = the benchmark bridge in direct mode, dialling the backend's port; direct = the backend itself. Rates compare as " +
	"tunnel ÷ other, latencies as tunnel − other. Figures of the bridge processes only, unless a row says the job's end."
