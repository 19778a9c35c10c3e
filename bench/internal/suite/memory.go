package suite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/det-slurm/bridge/bench/internal/load"
	"github.com/det-slurm/bridge/bench/internal/proc"
	"github.com/det-slurm/bridge/bench/internal/report"
)

// idleFigures are one path's resident memory with idle websockets open:
// before any, with few and with many, and for the Go paths what the
// runtime holds before and with many.
type idleFigures struct {
	before, few, many int64
	job               int64 // the tunnel path's job end, with many
	goBefore, goMany  goStats
	isGo              bool
}

// idleMemory opens idle websockets through each path, first few then as
// many again up to many, and reads its resident memory before, with few
// and with many; then it measures the bridge's memory per idle tunnel.
func idleMemory(ctx context.Context, e *env) error {
	px, err := e.setupProxies(ctx)
	if err != nil {
		return err
	}
	few, many := e.plan.idle, e.plan.idleMany
	// A proxy holds two descriptors per websocket.
	if room := int(e.nofile/2) - 100; e.nofile > 0 && many > room {
		e.note(fmt.Sprintf("Only %d idle websockets instead of %d: the open files limit is %d.", room, many, e.nofile))
		many = room
		e.plan.idleMany = many
	}
	paths := []string{pBridge, pTunnel, pNginx, pCHP}
	figs := map[string]idleFigures{}
	for _, p := range paths {
		f, err := e.idleRamp(ctx, px, p, few, many)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		figs[p] = f
	}
	row := func(key, label, unit string, v func(idleFigures) (float64, bool)) report.Row {
		r := report.Row{Key: key, Label: label, Unit: unit, Kind: report.Latency, Values: map[string]float64{}}
		for _, p := range paths {
			if x, ok := v(figs[p]); ok {
				r.Values[p] = x
			}
		}
		return r
	}
	always := func(g func(idleFigures) float64) func(idleFigures) (float64, bool) {
		return func(f idleFigures) (float64, bool) { return g(f), true }
	}
	perConn := func(rss int64, f idleFigures, n int) float64 { return float64(rss-f.before) / 1024 / float64(n) }
	rows := []report.Row{
		row("mem.idle.before", "RSS, no websockets", "MiB", always(func(f idleFigures) float64 { return mib(f.before) })),
		row("mem.idle.after", fmt.Sprintf("RSS, %d idle websockets", few), "MiB", always(func(f idleFigures) float64 { return mib(f.few) })),
		row("mem.idle.perconn", "per connection (KiB)", "KiB", always(func(f idleFigures) float64 { return perConn(f.few, f, few) })),
		row("mem.idle.many.after", fmt.Sprintf("RSS, %d idle websockets", many), "MiB", always(func(f idleFigures) float64 { return mib(f.many) })),
		row("mem.idle.many.perconn", fmt.Sprintf("per connection at %d (KiB)", many), "KiB", always(func(f idleFigures) float64 { return perConn(f.many, f, many) })),
	}
	goRow := func(key, label, unit string, g func(a, b goStats) float64) report.Row {
		return row(key, label, unit, func(f idleFigures) (float64, bool) { return g(f.goBefore, f.goMany) / float64(many), f.isGo })
	}
	goRows := []report.Row{
		goRow("mem.idle.many.goroutines", fmt.Sprintf("at %d: goroutines per connection", many), "count",
			func(a, b goStats) float64 { return float64(b.goroutines - a.goroutines) }),
		goRow("mem.idle.many.heap", fmt.Sprintf("at %d: Go heap in use per connection (KiB)", many), "KiB",
			func(a, b goStats) float64 { return (b.heap - a.heap) / 1024 }),
		goRow("mem.idle.many.stack", fmt.Sprintf("at %d: goroutine stacks per connection (KiB)", many), "KiB",
			func(a, b goStats) float64 { return (b.stack - a.stack) / 1024 }),
		row("mem.idle.many.job", fmt.Sprintf("RSS of the job's end, %d idle websockets", many), "MiB",
			func(f idleFigures) (float64, bool) { return mib(f.job), f.job > 0 }),
	}
	how := fmt.Sprintf("Resident memory (VmRSS, the process and its children) of each path's process (the benchmark bridges; nginx, master and workers; "+
		"configurable-http-proxy) before, %s after opening %d websockets to the backend's echo, and %s after opening as many more as make %d; "+
		"no messages are sent, none is closed in between. Per connection = (RSS with − RSS before) ÷ count. The benchmark bridges first collect "+
		"their garbage and give every free page back to the system (debug.FreeOSMemory) before the first reading, so that the figures are "+
		"what the websockets hold, not what earlier loads left behind for them to reuse; nginx and CHP have no such call.",
		e.plan.settle, few, e.plan.settle, many)
	cols := []string{pBridge, pNginx, pCHP}
	e.section(report.Section{
		Title: "3. Memory: idle proxied websockets", Columns: cols, Compare: true,
		Rows: pick(rows, cols), Notes: []string{how},
	})
	cols = []string{pTunnel, pBridge}
	e.section(report.Section{
		Title: "3b. Memory: idle websockets, tunnel mode vs direct mode", Columns: cols, Compare: true,
		Rows: pick(append(rows, goRows...), cols),
		Notes: []string{tunnelNote, how, "The Go rows are read from each bridge's runtime (pprof, after a collection) before and with the " +
			"most websockets: the goroutines, heap spans in use (HeapInuse) and goroutine stacks (StackInuse) each websocket adds. " +
			"The job's end is the tunnel-job process: what a notebook's det-launcher would hold on its node."},
	})
	return e.idleTunnels(ctx, px)
}

// idleRamp measures one path: before, with few and with many idle
// websockets.
func (e *env) idleRamp(ctx context.Context, px *proxies, p string, few, many int) (idleFigures, error) {
	var f idleFigures
	pid, pp := px.pid[p], px.pprof[p]
	f.isGo = pp != ""
	if f.isGo {
		if err := freeMemory(ctx, pp); err != nil {
			return f, err
		}
		time.Sleep(e.plan.settle / 4)
	}
	var err error
	if f.before, err = proc.RSS(pid); err != nil {
		return f, err
	}
	if f.isGo {
		if f.goBefore, err = readGoStats(ctx, pp); err != nil {
			return f, err
		}
	}
	url, h := wsURL(px.base[p]), px.header(p)
	first, err := load.OpenIdle(url, h, few)
	if err != nil {
		return f, err
	}
	defer first.Close()
	time.Sleep(e.plan.settle) // let allocations settle
	if f.few, err = proc.RSS(pid); err != nil {
		return f, err
	}
	more, err := load.OpenIdle(url, h, many-few)
	if err != nil {
		return f, err
	}
	defer more.Close()
	time.Sleep(e.plan.settle)
	if f.many, err = proc.RSS(pid); err != nil {
		return f, err
	}
	if p == pTunnel {
		if f.job, err = proc.RSS(px.jobPid); err != nil {
			return f, err
		}
	}
	if f.isGo {
		if f.goMany, err = readGoStats(ctx, pp); err != nil {
			return f, err
		}
		name := fmt.Sprintf("%s-idle-ws-%d", p, many)
		top, err := e.heapProfile(ctx, pp, name)
		if err != nil {
			return f, err
		}
		e.finding(fmt.Sprintf("### Heap profile: %s with %d idle websockets (%s, in use)\n\n```\n%s\n```",
			map[string]string{pBridge: "bridge", pTunnel: "bridge in tunnel mode"}[p], many, name, strings.Join(top[:min(len(top), 16)], "\n")))
	}
	e.logf("%-6s RSS %.1f MiB -> %.1f MiB with %d idle websockets -> %.1f MiB with %d", p, mib(f.before), mib(f.few), few, mib(f.many), many)
	first.Close()
	more.Close()
	time.Sleep(time.Second) // let the closes finish before the next proxy
	return f, nil
}

// idleTunnels starts a bridge with plan.tunnels tunnel notebooks and
// reads its resident memory before and after their jobs' end opened
// their tunnels, which then stay idle.
func (e *env) idleTunnels(ctx context.Context, px *proxies) error {
	n := e.plan.tunnels
	secret, err := randomHex(16)
	if err != nil {
		return err
	}
	br, err := e.startBridge(ctx, "bridge-tunnels", "-tunnels", fmt.Sprint(n), "-tunnel-secret", secret)
	if err != nil {
		return err
	}
	defer br.p.Stop()
	if err := freeMemory(ctx, br.pprof); err != nil {
		return err
	}
	time.Sleep(e.plan.settle / 4)
	before, err := proc.RSS(br.p.Pid())
	if err != nil {
		return err
	}
	g0, err := readGoStats(ctx, br.pprof)
	if err != nil {
		return err
	}
	job, err := e.startTunnelJob(ctx, "bridge-tunnels-job", br, secret, px.backend, n)
	if err != nil {
		return err
	}
	defer job.Stop()
	time.Sleep(e.plan.settle)
	after, err := proc.RSS(br.p.Pid())
	if err != nil {
		return err
	}
	jobRSS, err := proc.RSS(job.Pid())
	if err != nil {
		return err
	}
	g1, err := readGoStats(ctx, br.pprof)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("tunnel-idle-tunnels-%d", n)
	top, err := e.heapProfile(ctx, br.pprof, name)
	if err != nil {
		return err
	}
	e.finding(fmt.Sprintf("### Heap profile: bridge with %d idle tunnels (%s, in use)\n\n```\n%s\n```", n, name, strings.Join(top[:min(len(top), 16)], "\n")))
	e.logf("bridge RSS %.1f MiB -> %.1f MiB with %d idle tunnels (%.1f KiB each)", mib(before), mib(after), n, float64(after-before)/1024/float64(n))
	v := func(x float64) map[string]float64 { return map[string]float64{pTunnel: x} }
	rows := []report.Row{
		{Key: "mem.tunnels.before", Label: "RSS, no tunnels", Unit: "MiB", Kind: report.Plain, Values: v(mib(before))},
		{Key: "mem.tunnels.after", Label: fmt.Sprintf("RSS, %d idle tunnels", n), Unit: "MiB", Kind: report.Plain, Values: v(mib(after))},
		{Key: "mem.tunnels.per", Label: "per tunnel (KiB)", Unit: "KiB", Kind: report.Plain, Values: v(float64(after-before) / 1024 / float64(n))},
		{Key: "mem.tunnels.goroutines", Label: "goroutines per tunnel", Unit: "count", Kind: report.Plain, Values: v(float64(g1.goroutines-g0.goroutines) / float64(n))},
		{Key: "mem.tunnels.heap", Label: "Go heap in use per tunnel (KiB)", Unit: "KiB", Kind: report.Plain, Values: v((g1.heap - g0.heap) / 1024 / float64(n))},
		{Key: "mem.tunnels.stack", Label: "goroutine stacks per tunnel (KiB)", Unit: "KiB", Kind: report.Plain, Values: v((g1.stack - g0.stack) / 1024 / float64(n))},
		{Key: "mem.tunnels.job", Label: fmt.Sprintf("RSS of the job's end, %d tunnels", n), Unit: "MiB", Kind: report.Plain, Values: v(mib(jobRSS))},
	}
	e.section(report.Section{
		Title: fmt.Sprintf("3c. Memory: %d idle tunnels", n), Columns: []string{pTunnel}, Rows: rows,
		Notes: []string{fmt.Sprintf("A fresh benchmark bridge whose store holds %d running notebooks in tunnel mode (each its own task, secret and "+
			"Slurm job); one tunnel-job process opens their %d tunnels (one tunnel.Dialer each: its own TCP connection and yamux session), "+
			"which then carry nothing but yamux's keepalives. Resident memory of the bridge after a collection that gives every free page "+
			"back to the system, and %s after the last tunnel opened; per tunnel = (RSS with − RSS before) ÷ %d. The Go rows are read from "+
			"the bridge's runtime (pprof, after a collection). The job's end holds all %d jobs' ends in one process.", n, n, e.plan.settle, n, n)},
	})
	return nil
}
