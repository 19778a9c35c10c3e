package suite

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"github.com/det-slurm/bridge/bench/internal/load"
	"github.com/det-slurm/bridge/bench/internal/proc"
	"github.com/det-slurm/bridge/bench/internal/report"
)

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// memReading is a process's resident memory and, for a benchmark bridge,
// what its runtime holds.
type memReading struct {
	rss int64
	g   goStats
}

// readMem reads the memory of pid and, when pprof is set (a Go bridge),
// its runtime's figures.
func readMem(ctx context.Context, pid int, pprof string) (memReading, error) {
	var m memReading
	var err error
	if m.rss, err = proc.RSS(pid); err == nil && pprof != "" {
		m.g, err = readGoStats(ctx, pprof)
	}
	return m, err
}

// addGoRows adds to rows the goroutines, heap and stacks per connection
// (of n) that path p's runtime holds more in after than in before.
func addGoRows(rows []report.Row, p string, before, after memReading, n int) {
	per := func(x float64) float64 { return x / float64(n) }
	rows[0].Values[p] = per(float64(after.g.goroutines - before.g.goroutines))
	rows[1].Values[p] = per(after.g.heap-before.g.heap) / 1024
	rows[2].Values[p] = per(after.g.stack-before.g.stack) / 1024
}

// idleMemory opens idle websockets through each path, first few then as
// many more as make many, and reads its memory before, with few and with
// many; then it measures the bridge's memory per idle tunnel.
func idleMemory(ctx context.Context, e *env) error {
	px, err := e.setupProxies(ctx)
	if err != nil {
		return err
	}
	few, many := e.plan.idle, e.plan.idleMany
	if room := int(e.nofile/2) - 100; e.nofile > 0 && many > room { // a proxy holds two descriptors per websocket
		e.note(fmt.Sprintf("Only %d idle websockets instead of %d: the open files limit is %d.", room, many, e.nofile))
		many, e.plan.idleMany = room, room
	}
	rows := []report.Row{
		newRow(kIdleBefore, "RSS, no websockets", "MiB", report.Latency),
		newRow(kIdleFew, fmt.Sprintf("RSS, %d idle websockets", few), "MiB", report.Latency),
		newRow(kIdleFewPer, "per connection (KiB)", "KiB", report.Latency),
		newRow(kIdleMany, fmt.Sprintf("RSS, %d idle websockets", many), "MiB", report.Latency),
		newRow(kIdleManyPer, fmt.Sprintf("per connection at %d (KiB)", many), "KiB", report.Latency),
	}
	goRows := []report.Row{
		newRow(kIdleGoroutines, fmt.Sprintf("at %d: goroutines per connection", many), "count", report.Latency),
		newRow(kIdleHeap, fmt.Sprintf("at %d: Go heap in use per connection (KiB)", many), "KiB", report.Latency),
		newRow(kIdleStack, fmt.Sprintf("at %d: goroutine stacks per connection (KiB)", many), "KiB", report.Latency),
		newRow(kIdleJob, fmt.Sprintf("RSS of the job's end, %d idle websockets", many), "MiB", report.Latency),
	}
	for _, p := range idlePaths {
		pp := px.pprof[p]
		m, err := e.idleRamp(ctx, px, p, few, many)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		vals := []float64{mib(m[0].rss), mib(m[1].rss), float64(m[1].rss-m[0].rss) / 1024 / float64(few),
			mib(m[2].rss), float64(m[2].rss-m[0].rss) / 1024 / float64(many)}
		for i, v := range vals {
			rows[i].Values[p] = v
		}
		if pp != "" {
			addGoRows(goRows, p, m[0], m[2], many)
		}
		if p == pTunnel {
			job, err := proc.RSS(px.jobPid)
			if err != nil {
				return err
			}
			goRows[3].Values[p] = mib(job)
		}
		e.logf("%-6s RSS %.1f MiB -> %.1f MiB with %d idle websockets -> %.1f MiB with %d", p, vals[0], vals[1], few, vals[3], many)
	}
	how := fmt.Sprintf("VmRSS of each path's processes before, %s after opening %d idle websockets to the backend's echo, and %s after "+
		"opening as many more as make %d; per connection = (RSS with − RSS before) ÷ count. The bridges first give every free page back "+
		"(debug.FreeOSMemory); the Go rows are their runtime's (HeapInuse, StackInuse) before and with the most websockets.",
		e.plan.settle, few, e.plan.settle, many)
	e.section(report.Section{Title: "3. Memory: idle proxied websockets", Columns: []string{pBridge, pNginx, pCHP}, Compare: true,
		Rows: pick(rows, []string{pBridge, pNginx, pCHP}), Notes: []string{how}})
	e.section(report.Section{Title: "3b. Memory: idle websockets, tunnel mode vs direct mode", Columns: []string{pTunnel, pBridge}, Compare: true,
		Rows: pick(slices.Concat(rows, goRows), []string{pTunnel, pBridge}), Notes: []string{tunnelNote, how}})
	return e.idleTunnels(ctx, px)
}

// idleRamp reads path p's memory before any websocket, with few idle
// ones and with many, and closes them.
func (e *env) idleRamp(ctx context.Context, px *proxies, p string, few, many int) ([3]memReading, error) {
	var m [3]memReading
	defer time.Sleep(time.Second) // runs after the websockets' closes: let them finish before the next path
	pp := px.pprof[p]
	if pp != "" {
		if err := freeMemory(ctx, pp); err != nil {
			return m, err
		}
		time.Sleep(e.plan.settle / 4)
	}
	var err error
	if m[0], err = readMem(ctx, px.pid[p], pp); err != nil {
		return m, err
	}
	for i, n := range []int{few, many - few} {
		idle, err := load.OpenIdle(wsURL(px.base[p]), px.header(p), n)
		if err != nil {
			return m, err
		}
		defer idle.Close()
		time.Sleep(e.plan.settle) // let allocations settle
		gp := pp
		if i == 0 {
			gp = "" // the runtime's figures before and with many only, as the rows compare those
		}
		if m[i+1], err = readMem(ctx, px.pid[p], gp); err != nil {
			return m, err
		}
	}
	if pp != "" {
		err = e.heapProfile(ctx, pp, fmt.Sprintf("%s-idle-ws-%d", p, many))
	}
	return m, err
}

// idleTunnels starts a bridge with plan.tunnels tunnel notebooks and
// reads its memory before and after their jobs' end opened their
// tunnels, which then stay idle.
func (e *env) idleTunnels(ctx context.Context, px *proxies) error {
	n := e.plan.tunnels
	secret := rand.Text()
	br, err := e.startBridge(ctx, "bridge-tunnels", "-tunnels", fmt.Sprint(n), "-tunnel-secret", secret)
	if err != nil {
		return err
	}
	defer br.p.Stop()
	if err := freeMemory(ctx, br.pprof); err != nil {
		return err
	}
	time.Sleep(e.plan.settle / 4)
	before, err := readMem(ctx, br.p.Pid(), br.pprof)
	if err != nil {
		return err
	}
	job, err := e.startTunnelJob(br, secret, px.backend, n)
	if err != nil {
		return err
	}
	defer job.Stop()
	time.Sleep(e.plan.settle)
	after, err := readMem(ctx, br.p.Pid(), br.pprof)
	if err != nil {
		return err
	}
	jobRSS, err := proc.RSS(job.Pid())
	if err != nil {
		return err
	}
	if err := e.heapProfile(ctx, br.pprof, fmt.Sprintf("tunnel-idle-tunnels-%d", n)); err != nil {
		return err
	}
	rows := []report.Row{
		newRow(kTunBefore, "RSS, no tunnels", "MiB", report.Plain),
		newRow(kTunAfter, fmt.Sprintf("RSS, %d idle tunnels", n), "MiB", report.Plain),
		newRow(kTunPer, "per tunnel (KiB)", "KiB", report.Plain),
		newRow(kTunGoroutines, "goroutines per tunnel", "count", report.Plain),
		newRow(kTunHeap, "Go heap in use per tunnel (KiB)", "KiB", report.Plain),
		newRow(kTunStack, "goroutine stacks per tunnel (KiB)", "KiB", report.Plain),
		newRow(kTunJob, fmt.Sprintf("RSS of the job's end, %d tunnels", n), "MiB", report.Plain),
	}
	rows[0].Values[pTunnel], rows[1].Values[pTunnel] = mib(before.rss), mib(after.rss)
	rows[2].Values[pTunnel] = float64(after.rss-before.rss) / 1024 / float64(n)
	addGoRows(rows[3:6], pTunnel, before, after, n)
	rows[6].Values[pTunnel] = mib(jobRSS)
	e.logf("bridge RSS %.1f MiB -> %.1f MiB with %d idle tunnels", mib(before.rss), mib(after.rss), n)
	e.section(report.Section{Title: fmt.Sprintf("3c. Memory: %d idle tunnels", n), Columns: []string{pTunnel}, Rows: rows,
		Notes: []string{fmt.Sprintf("A fresh benchmark bridge whose store holds %d running notebooks in tunnel mode; one tunnel-job process "+
			"opens their tunnels (a TCP connection and yamux session each), which then stay idle. RSS after a collection that gives every "+
			"free page back, and %s after the last tunnel opened; per tunnel = (RSS with − RSS before) ÷ %d.", n, e.plan.settle, n)},
	})
	return nil
}
