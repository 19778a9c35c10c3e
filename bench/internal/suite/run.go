// Package suite runs the benchmark phases (proxy HTTP and websocket
// against the peers, memory, API scale, and on the dev cluster time to
// notebook, Jupyter through the proxies and controller load), judges the
// targets and writes the results.
package suite

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/det-slurm/bridge/bench/internal/cluster"
	"github.com/det-slurm/bridge/bench/internal/report"
)

// options are the suite's flags.
type options struct {
	smoke       bool
	repo        string
	out         string
	master      string
	lock        string
	posixUser   string
	patternUser string
	lockWait    time.Duration
	phases      string
}

// phase is one part of the suite; a phase that returns an error is
// broken (the suite exits non-zero), a missed target is not.
type phase struct {
	name string
	run  func(ctx context.Context, e *env) error
}

// Run runs the suite with the "run" subcommand's flags.
func Run(ctx context.Context, args []string) error {
	var o options
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.BoolVar(&o.smoke, "smoke", os.Getenv("BENCH_SMOKE") != "", "short run that only checks the suite works")
	fs.StringVar(&o.repo, "repo", ".", "the repository's folder")
	fs.StringVar(&o.out, "out", "", "results folder (default bench/results, bench/results/smoke for -smoke)")
	fs.StringVar(&o.master, "master", "http://127.0.0.1:8080", "the running det-bridge of the dev cluster")
	fs.StringVar(&o.lock, "lock", "/tmp/det-cluster.lock", "lock file shared by everyone who uses the dev cluster")
	fs.StringVar(&o.posixUser, "posix-user", "alice", "POSIX user the dev cluster's jobs run as")
	fs.StringVar(&o.patternUser, "pattern-user", "bob", "POSIX user the squeue-per-notebook comparison runs as")
	fs.DurationVar(&o.lockWait, "lock-wait", 5*time.Minute, "how long to try for the cluster lock (0: once, as flock -n)")
	fs.StringVar(&o.phases, "phases", "http,ws,memory,api,cluster", "phases to run, comma-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	repo, err := filepath.Abs(o.repo)
	if err != nil {
		return err
	}
	o.repo = repo
	if o.out == "" {
		o.out = filepath.Join(repo, "bench", "results")
		if o.smoke {
			o.out = filepath.Join(o.out, "smoke")
		}
	}
	e, err := newEnv(o)
	if err != nil {
		return err
	}
	defer e.close()
	if e.nofile, err = raiseOpenFiles(); err != nil {
		e.logf("%v", err)
	}
	// The lock is held for the whole run: the cluster phases need it, and
	// the load phases would disturb anyone else's tests on this machine.
	unlock, err := cluster.Lock(ctx, o.lock, o.lockWait, func() {
		e.logf("waiting for the cluster lock %s (someone else is using the cluster)", o.lock)
	})
	if err != nil {
		e.logf("%v: running without the cluster phases", err)
		e.note("Cluster figures (sections 1b, 4 and 5) not measured: " + err.Error())
	} else {
		e.locked = true
		defer unlock()
	}
	e.res.Started = time.Now() // the wait for the lock is not the suite's time
	e.note(machineNote(o.repo))
	all := []phase{
		{"http", proxyHTTP}, {"ws", proxyWS}, {"memory", idleMemory}, {"api", apiScale}, {"cluster", clusterPhases},
	}
	var broken []string
	for _, p := range all {
		if !strings.Contains(","+o.phases+",", ","+p.name+",") {
			continue
		}
		e.logf("== %s", p.name)
		t0 := time.Now()
		if err := p.run(ctx, e); err != nil {
			e.logf("%s: BROKEN: %v", p.name, err)
			e.keep = true
			broken = append(broken, fmt.Sprintf("%s: %v", p.name, err))
			first, _, _ := strings.Cut(err.Error(), "\n")
			e.note(fmt.Sprintf("Phase %s failed: %s", p.name, first))
		}
		e.logf("%s took %s", p.name, time.Since(t0).Round(time.Second))
		if ctx.Err() != nil {
			break
		}
	}
	if err := e.finish(); err != nil {
		return err
	}
	if len(broken) > 0 {
		return errors.New("broken phases:\n  " + strings.Join(broken, "\n  "))
	}
	return nil
}

// raiseOpenFiles sets the soft limit of open files to the hard one, for
// this process and the ones it starts (Go raises its own limit but not
// its children's): a proxy holds two descriptors per idle websocket.
func raiseOpenFiles() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("read the open files limit: %w", err)
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("raise the open files limit to %d: %w", l.Max, err)
	}
	return l.Cur, nil
}

// finish judges the targets, computes the findings and writes latest.md
// and a row of history.csv.
func (e *env) finish() error {
	e.res.Duration = time.Since(e.res.Started)
	if len(e.ba) > 0 {
		e.section(report.Section{
			Title: "7. Before/after: the proposed changes, tried from bench/", Columns: []string{cChange, cNow}, Compare: true, Rows: e.ba,
			Notes: []string{"Each change is tried from bench/ in the same run, taking turns with the code as it is: the buffer size is an " +
				"A/B of the bare httputil.ReverseProxy with proxy.DefaultTransport() (32 KiB is proxy.New's size)."},
		})
	}
	sort.SliceStable(e.res.Sections, func(i, j int) bool {
		return sectionOrder(e.res.Sections[i].Title) < sectionOrder(e.res.Sections[j].Title)
	})
	data := e.res.Data()
	e.res.Targets = judge(targetsFor(e.plan), data)
	e.res.Findings = findings(data)
	prev, prevTitle := report.Previous(e.opts.out)
	md := report.Markdown(&e.res, prev, prevTitle)
	cols := []string{"timestamp", "commit"}
	row := map[string]string{"timestamp": e.res.Started.UTC().Format(time.RFC3339), "commit": commit(e.opts.repo)}
	for _, t := range e.res.Targets {
		id := strings.TrimPrefix(t.Key, "target.")
		cols = append(cols, id)
		if t.Known {
			row[id] = strconv.FormatFloat(math.Round(t.Value*100)/100, 'f', -1, 64)
		}
	}
	if err := report.Write(e.opts.out, md, cols, row); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	fmt.Println(md)
	e.logf("results: %s and a row of %s", filepath.Join(e.opts.out, "latest.md"), filepath.Join(e.opts.out, "history.csv"))
	return nil
}

// sectionOrder sorts "1.", "1b.", "2." ... by their number, then letter.
func sectionOrder(title string) string {
	num, _, _ := strings.Cut(title, ".")
	digits := strings.TrimRight(num, "abcdefghijklmnopqrstuvwxyz")
	return fmt.Sprintf("%04s%s", digits, num[len(digits):])
}

// commit is the short hash of HEAD, with "+dirty" when files outside
// bench/ differ from it.
func commit(repo string) string {
	c := strings.TrimSpace(output(repo, "git", "rev-parse", "--short", "HEAD"))
	if strings.TrimSpace(output(repo, "git", "status", "--porcelain", "--", ".", ":!bench")) != "" {
		c += "+dirty"
	}
	return c
}

// machineNote says what ran: the commit, the machine and the tools.
func machineNote(repo string) string {
	mem := "?"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(string(data), "MemTotal: %f kB", &kb); err == nil {
			mem = fmt.Sprintf("%.0f", kb/(1<<20))
		}
	}
	return fmt.Sprintf("Code: %s. Machine: %d CPUs, %s GiB, Linux %s. Tools: %s, nginx %s, wrk %s, Node %s.",
		commit(repo), runtime.NumCPU(), mem, strings.TrimSpace(output("", "uname", "-r")), runtime.Version(),
		nginxVersion(), version("debian/", "wrk", "-v"), nodeVersion())
}

func output(dir string, argv ...string) string {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// version runs a command and returns the first word of its output that
// contains what, without it, or "?".
func version(what string, argv ...string) string {
	for _, f := range strings.Fields(output("", argv...)) {
		if strings.Contains(f, what) {
			return strings.TrimPrefix(strings.TrimPrefix(f, what), "v")
		}
	}
	return "?"
}

func nginxVersion() string { return version("nginx/", "nginx", "-v") }

func nodeVersion() string { return version("v", "node", "--version") }
