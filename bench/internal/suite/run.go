package suite

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/det-slurm/bridge/bench/internal/cluster"
	"github.com/det-slurm/bridge/bench/internal/proc"
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

func runSuite(ctx context.Context, args []string) error {
	var o options
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.BoolVar(&o.smoke, "smoke", os.Getenv("BENCH_SMOKE") != "", "short run that only checks the suite works")
	fs.StringVar(&o.repo, "repo", ".", "the repository's folder")
	fs.StringVar(&o.out, "out", "", "results folder (default bench/results, bench/results/smoke for -smoke)")
	fs.StringVar(&o.master, "master", "http://127.0.0.1:8080", "the running det-bridge of the dev cluster")
	fs.StringVar(&o.lock, "lock", "/tmp/det-cluster.lock", "lock file shared by everyone who uses the dev cluster")
	fs.StringVar(&o.posixUser, "posix-user", "alice", "POSIX user the dev cluster's jobs run as")
	fs.StringVar(&o.patternUser, "pattern-user", "bob", "POSIX user the squeue-per-notebook comparison runs as")
	fs.DurationVar(&o.lockWait, "lock-wait", 5*time.Minute, "how long to wait for the cluster lock")
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
	var broken, other []string
	for _, p := range all {
		if !strings.Contains(","+o.phases+",", ","+p.name+",") {
			continue
		}
		e.logf("== %s", p.name)
		t0 := time.Now()
		c0, cpuErr := proc.ReadCPU(os.Getpid())
		if err := p.run(ctx, e); err != nil {
			e.logf("%s: BROKEN: %v", p.name, err)
			e.keep = true
			broken = append(broken, fmt.Sprintf("%s: %v", p.name, err))
			e.note(fmt.Sprintf("Phase %s failed: %v", p.name, oneLine(err)))
		}
		if c1, err := proc.ReadCPU(os.Getpid()); err == nil && cpuErr == nil {
			share := 100 * ((c1.Busy - c0.Busy) - (c1.Tree - c0.Tree)) / (time.Since(t0).Seconds() * float64(runtime.NumCPU()))
			other = append(other, fmt.Sprintf("%s %.0f%%", p.name, max(share, 0)))
			e.logf("%s took %s; other work on the machine: %.0f%% of the CPUs", p.name, time.Since(t0).Round(time.Second), max(share, 0))
		}
		if ctx.Err() != nil {
			break
		}
	}
	e.note("CPU used by anything but the suite's own processes during each phase, as a share of all CPUs: " + strings.Join(other, ", ") +
		". A few percent is the system itself; more means other work competed with the measurements (in the cluster phase the dev " +
		"cluster's det-bridge, Slurm and the notebooks' Jupyter count here too).")
	if err := e.finish(); err != nil {
		return err
	}
	if len(broken) > 0 {
		return errors.New("broken phases:\n  " + strings.Join(broken, "\n  "))
	}
	return nil
}

// sectionOrder sorts "1.", "1b.", "2." ... by their number, then letter.
func sectionOrder(title string) string {
	num, _, _ := strings.Cut(title, ".")
	digits := strings.TrimRight(num, "abcdefghijklmnopqrstuvwxyz")
	return fmt.Sprintf("%04s%s", digits, num[len(digits):])
}

func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// finish evaluates the targets and writes the results files.
func (e *env) finish() error {
	e.res.Duration = time.Since(e.res.Started)
	if len(e.ba) > 0 {
		e.section(report.Section{
			Title: "7. Before/after: the proposed changes, tried from bench/", Columns: []string{cChange, cNow}, Compare: true, Rows: e.ba,
			Notes: []string{"proxy/ and bridge/ are not changed by the suite; each change is tried from bench/ in the same run, taking turns with the " +
				"code as it is: the buffer size is an A/B of the bare httputil.ReverseProxy with proxy.DefaultTransport() (32 KiB is proxy.New's size)."},
		})
	}
	sort.SliceStable(e.res.Sections, func(i, j int) bool {
		return sectionOrder(e.res.Sections[i].Title) < sectionOrder(e.res.Sections[j].Title)
	})
	e.res.Targets = targets(e)
	e.explain(e.res.Targets)
	name := e.res.Started.UTC().Format("20060102T150405Z") + ".md"
	prev, prevName := report.Previous(e.opts.out, name)
	md := report.Markdown(&e.res, prev, prevName)
	if err := report.Write(e.opts.out, name, md); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	fmt.Println(md)
	e.logf("results: %s (and latest.md)", filepath.Join(e.opts.out, name))
	return nil
}

// machineNote says what ran: the commit, the machine and the tools.
func machineNote(repo string) string {
	commit := strings.TrimSpace(output(repo, "git", "rev-parse", "--short", "HEAD"))
	dirty := strings.TrimSpace(output(repo, "git", "status", "--porcelain", "--", ".", ":!bench"))
	if dirty != "" {
		commit += fmt.Sprintf(" plus %d uncommitted changes outside bench/", len(strings.Split(dirty, "\n")))
	}
	return fmt.Sprintf("Code: %s. Machine: %d CPUs, %s, Linux %s. Tools: %s, nginx %s, wrk %s, Node %s.",
		commit, runtime.NumCPU(), memTotal(), strings.TrimSpace(output("", "uname", "-r")), runtime.Version(),
		nginxVersion(), version("debian/", "wrk", "-v"), nodeVersion())
}

func output(dir string, argv ...string) string {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func memTotal() string {
	data, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			var kb float64
			fmt.Sscan(f[1], &kb)
			return fmt.Sprintf("%.0f GiB", kb/(1<<20))
		}
	}
	return "? GiB"
}
