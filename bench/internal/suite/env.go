package suite

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/det-slurm/bridge/bench/internal/proc"
	"github.com/det-slurm/bridge/bench/internal/report"
)

// plan is how much each phase does: the full run fits 10 minutes on two
// cores, the smoke run about 3.
type plan struct {
	dur        time.Duration // one wrk run
	rounds     int           // wrk runs per figure, taking turns with the other paths
	conns      []int
	wsEcho     int           // echoed small messages
	wsMsgs     int           // 1 MiB messages streamed
	idle       int           // idle websockets for the memory figure
	idleMany   int           // idle websockets for the memory per websocket
	tunnels    int           // idle tunnels for the memory per tunnel
	settle     time.Duration // wait after opening idle connections, before reading memory
	ttnReps    int           // time to notebook (and floor) repetitions
	loadN      []int
	window     time.Duration // sdiag window
	apiTasks   int
	apiReps    int
	profile    time.Duration
	jupyterCs  []int
	jupyterDur time.Duration // one wrk run on Jupyter (its answers take seconds at 256 connections)
	latDur     time.Duration // each interleaved latency measurement, all rounds
	latRounds  int           // rounds it is cut into; figures are the rounds' medians
	latRate    float64       // req/s per path of the open-loop latency rows
}

func planFor(smoke bool) plan {
	if smoke {
		return plan{dur: time.Second, rounds: 1, conns: []int{1, 32}, wsEcho: 200, wsMsgs: 8, idle: 100, idleMany: 300, tunnels: 20, settle: 500 * time.Millisecond, ttnReps: 1,
			loadN: []int{2}, window: 30 * time.Second, apiTasks: 1000, apiReps: 3, profile: time.Second, jupyterCs: []int{8}, jupyterDur: 2 * time.Second,
			latDur: 2 * time.Second, latRounds: 1, latRate: 500}
	}
	return plan{dur: time.Second, rounds: 3, conns: []int{1, 32, 256}, wsEcho: 2000, wsMsgs: 64, idle: 1000, idleMany: 5000, tunnels: 200, settle: 2 * time.Second, ttnReps: 3,
		loadN: []int{1, 10, 50}, window: time.Minute, apiTasks: 10000, apiReps: 10, profile: 4 * time.Second, jupyterCs: []int{1, 32, 256}, jupyterDur: 3 * time.Second,
		latDur: 15 * time.Second, latRounds: 5, latRate: 500}
}

// env is what the phases share.
type env struct {
	opts   options
	plan   plan
	work   string // temporary folder, removed at the end
	exe    string // this program, for the serve subcommands
	res    report.Results
	procs  []*proc.Proc
	px     *proxies // started by the first phase that needs them
	pxErr  error
	ba     []report.Row // before/after rows of the proposed changes
	locked bool         // the cluster lock is held
	keep   bool         // keep the work folder (its logs) for a look after a failure
	nofile uint64       // the open files limit of the suite and its processes
}

func newEnv(o options) (*env, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "det-bench-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(work, 0o755); err != nil {
		return nil, err
	}
	e := &env{opts: o, plan: planFor(o.smoke), work: work, exe: exe}
	e.res.Started = time.Now()
	e.res.Smoke = o.smoke
	return e, nil
}

// start runs a process and stops it when the suite ends.
func (e *env) start(name string, argv ...string) (*proc.Proc, string, error) {
	logPath := filepath.Join(e.work, name+".log")
	p, err := proc.Start(name, logPath, nil, argv...)
	if err != nil {
		return nil, "", err
	}
	e.procs = append(e.procs, p)
	return p, logPath, nil
}

func (e *env) close() {
	for i := len(e.procs) - 1; i >= 0; i-- {
		e.procs[i].Stop()
	}
	if e.keep {
		e.logf("logs kept in %s", e.work)
		return
	}
	_ = os.RemoveAll(e.work)
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (e *env) note(s string) { e.res.Notes = append(e.res.Notes, s) }

func (e *env) section(s report.Section) { e.res.Sections = append(e.res.Sections, s) }

// newRow is a row without figures yet.
func newRow(k report.Key, label, unit string, kind report.Kind) report.Row {
	return report.Row{Key: k, Label: label, Unit: unit, Kind: kind, Values: map[string]float64{}}
}

// spread is the median, fastest and slowest of repeated timings, in unit.
func spread(d []time.Duration, unit time.Duration) map[string]float64 {
	s := slices.Sorted(slices.Values(d))
	f := func(x time.Duration) float64 { return float64(x) / float64(unit) }
	return map[string]float64{"median": f(s[len(s)/2]), "fastest": f(s[0]), "slowest": f(s[len(s)-1])}
}
