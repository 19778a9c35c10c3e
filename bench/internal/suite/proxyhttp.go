package suite

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/det-slurm/bridge/bench/internal/load"
	"github.com/det-slurm/bridge/bench/internal/proc"
	"github.com/det-slurm/bridge/bench/internal/report"
)

// matrix runs wrk on every path for every connection count and returns
// three rows per count: req/s, p50 and p99. With strict, errors on the
// bridge or direct path mean the setup is broken; otherwise they are noted.
func (e *env) matrix(ctx context.Context, keyPrefix, label string, paths []string, loads map[string]load.Target, conns []int, strict bool, rounds int, dur time.Duration) ([]report.Row, error) {
	var rows []report.Row
	for _, c := range conns {
		rps := report.Row{Key: fmt.Sprintf("%s.c%d.rps", keyPrefix, c), Label: fmt.Sprintf("%s, %s: req/s", label, connLabel(c)), Unit: "req/s", Kind: report.Rate, Values: map[string]float64{}}
		p50 := report.Row{Key: fmt.Sprintf("%s.c%d.p50", keyPrefix, c), Label: fmt.Sprintf("%s, %s: p50", label, connLabel(c)), Unit: "us", Kind: report.Latency, Values: map[string]float64{}}
		p99 := report.Row{Key: fmt.Sprintf("%s.c%d.p99", keyPrefix, c), Label: fmt.Sprintf("%s, %s: p99", label, connLabel(c)), Unit: "us", Kind: report.Latency, Values: map[string]float64{}}
		ls := make([]load.Target, len(paths))
		for i, p := range paths {
			ls[i] = loads[p]
		}
		res, err := wrkRounds(ctx, ls, c, rounds, dur)
		if err != nil {
			return nil, err
		}
		for i, p := range paths {
			r := res[i]
			e.logf("%-6s %-28s %5d conns: %9.0f req/s  p50 %8s  p99 %8s  errors %d", p, label, c, r.RPS, r.P50, r.P99, r.Errors)
			if r.Bad() {
				msg := fmt.Sprintf("%s via %s at %d connections: %d errors in %d requests", label, p, c, r.Errors, r.Requests)
				if strict && strictPath(p) {
					return nil, fmt.Errorf("%s", msg)
				}
				e.note(msg + " (figures kept)")
			}
			rps.Values[p] = r.RPS
			p50.Values[p] = us(r.P50)
			p99.Values[p] = us(r.P99)
		}
		rows = append(rows, rps, p50, p99)
	}
	return rows, nil
}

// wrkRounds loads each of ls in turn with wrk, rounds times for dur, and
// returns the medians of each one's rounds.
func wrkRounds(ctx context.Context, ls []load.Target, conns, rounds int, dur time.Duration) ([]load.Result, error) {
	return load.Rounds(rounds, func() ([]load.Result, error) {
		out := make([]load.Result, len(ls))
		for i, l := range ls {
			var err error
			if out[i], err = load.Wrk(ctx, l.URL, conns, dur, l.Header); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// cpuPerRequest loads each path with 1 KiB requests at 32 connections and
// divides the CPU time its process used by the requests answered: for the
// proxies their own cost, for direct the backend's. For the tunnel path
// it also returns the job end's CPU per request.
func (e *env) cpuPerRequest(ctx context.Context, px *proxies, paths []string) (report.Row, report.Row, error) {
	row := report.Row{Key: "http.static.1k.c32.cpu", Label: "1 KiB, 32 conns: CPU per request of the path's process", Unit: "us", Kind: report.Latency, Values: map[string]float64{}}
	job := report.Row{Key: "http.static.1k.c32.jobcpu", Label: "1 KiB, 32 conns: CPU per request of the job's end", Unit: "us", Kind: report.Latency, Values: map[string]float64{}}
	for _, p := range paths {
		t0, j0 := proc.TreeCPU(px.pid[p]), proc.TreeCPU(px.jobPid)
		r, err := load.Wrk(ctx, px.base[p]+"1k", 32, 2*e.plan.dur, px.header(p))
		if err != nil {
			return row, job, err
		}
		if r.Requests == 0 {
			return row, job, fmt.Errorf("no requests answered via %s", p)
		}
		row.Values[p] = (proc.TreeCPU(px.pid[p]) - t0) * 1e6 / float64(r.Requests)
		e.logf("%-6s CPU per 1 KiB request at 32 conns: %.1f µs", p, row.Values[p])
		if p == pTunnel {
			job.Values[p] = (proc.TreeCPU(px.jobPid) - j0) * 1e6 / float64(r.Requests)
			e.logf("%-6s CPU per 1 KiB request at 32 conns of the job's end: %.1f µs", p, job.Values[p])
		}
	}
	return row, job, nil
}

// latConns is the connection count of the open-loop latency rows.
const latConns = 32

// interleaved are the paths of the interleaved latency rows: not CHP, whose
// Node process goes on working (collecting garbage, running timers) after
// each answer, which lands in the next path's request: with it in the
// rotation, direct's p99 at 1 connection went from 0.5 to 3 ms. CHP is
// paused while they are measured.
var interleaved = []string{pBridge, pDirect, pNginx, pBare, pTunnel}

// pairedLatency measures 1 KiB responses through the interleaved paths at
// once: closed loop at 1 connection, open loop at latConns.
func (e *env) pairedLatency(ctx context.Context, px *proxies) ([]report.Row, error) {
	// CHP's Node process goes on working for seconds after a load (its
	// collector frees the buffers of the 1 MiB runs): paused, it cannot
	// land in the other paths' tails (3 ms instead of 0.5 ms at p99).
	if pid := px.pid[pCHP]; pid > 0 {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			return nil, fmt.Errorf("pause configurable-http-proxy: %w", err)
		}
		defer syscall.Kill(pid, syscall.SIGCONT)
	}
	time.Sleep(2 * time.Second) // let the last wrk run's work drain
	var ts []load.Target
	for _, p := range interleaved {
		ts = append(ts, load.Target{Name: p, URL: px.base[p] + "1k", Header: px.header(p)})
	}
	var rows []report.Row
	for _, m := range []struct {
		key, label string
		conns      int
		rate       float64
	}{
		{"http.paired.1k.c1", "1 KiB, 1 conn, interleaved", 1, 0},
		{fmt.Sprintf("http.paired.1k.c%d", latConns), fmt.Sprintf("1 KiB, %d conns at %.0f req/s, interleaved", latConns, e.plan.latRate), latConns, e.plan.latRate},
	} {
		st, err := load.Rounds(e.plan.latRounds, func() ([]load.Result, error) {
			return load.Interleaved(ctx, ts, m.conns, m.rate, e.plan.latDur/time.Duration(max(e.plan.latRounds, 1)))
		})
		if err != nil {
			return nil, err
		}
		p50 := report.Row{Key: m.key + ".p50", Label: m.label + ": p50", Unit: "us", Kind: report.Latency, Values: map[string]float64{}}
		p99 := report.Row{Key: m.key + ".p99", Label: m.label + ": p99", Unit: "us", Kind: report.Latency, Values: map[string]float64{}}
		for i, p := range interleaved {
			s := st[i]
			e.logf("%-6s %-36s: %6d requests  p50 %8s  p99 %8s  errors %d", p, m.label, s.Requests, s.P50, s.P99, s.Errors)
			if s.Bad() {
				msg := fmt.Sprintf("%s via %s: %d errors in %d requests", m.label, p, s.Errors, s.Requests)
				if strictPath(p) {
					return nil, fmt.Errorf("%s", msg)
				}
				e.note(msg + " (figures kept)")
			}
			p50.Values[p], p99.Values[p] = us(s.P50), us(s.P99)
		}
		rows = append(rows, p50, p99)
	}
	return rows, nil
}

// strictPath is true of the paths whose errors mean the setup is broken:
// the bridge's, in either mode, and the backend's.
func strictPath(p string) bool { return p == pBridge || p == pDirect || p == pTunnel }

// proxyHTTP measures 1 KiB and 1 MiB responses from the static backend
// through the four paths, the bare ReverseProxy and the tunnel, then
// profiles the bridge in both modes at 32 connections.
func proxyHTTP(ctx context.Context, e *env) error {
	px, err := e.setupProxies(ctx)
	if err != nil {
		return err
	}
	paths := withTunnel(httpOrder)
	for _, p := range paths { // warm up connection pools and Node's JIT
		if _, err := load.Wrk(ctx, px.base[p]+"1k", 32, time.Second, px.header(p)); err != nil {
			return err
		}
	}
	var rows []report.Row
	for _, size := range []struct{ name, label string }{{"1k", "1 KiB"}, {"1m", "1 MiB"}} {
		loads := map[string]load.Target{}
		for _, p := range paths {
			loads[p] = load.Target{URL: px.base[p] + size.name, Header: px.header(p)}
		}
		r, err := e.matrix(ctx, "http.static."+size.name, size.label, paths, loads, e.plan.conns, true, e.plan.rounds, e.plan.dur)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	lat, err := e.pairedLatency(ctx, px)
	if err != nil {
		return err
	}
	rows = append(rows, lat...)
	cpu, jobCPU, err := e.cpuPerRequest(ctx, px, paths)
	if err != nil {
		return err
	}
	rows = append(rows, cpu)
	e.section(report.Section{
		Title:   "1. Proxy, HTTP: static backend",
		Columns: httpOrder, Compare: true, Rows: pick(rows, httpOrder),
		Notes: []string{"bridge = a real bridge.Server (SQLite store, bearer-token auth, activity tracking) in its own process, routed to the " +
			"backend; direct = the backend itself; nginx " + nginxVersion() + " (worker_processes auto, upstream keepalive 256, proxy_buffering off); " +
			"CHP = configurable-http-proxy 5.3.0 on Node " + nodeVersion() + "; ReverseProxy = httputil.ReverseProxy alone with " +
			"proxy.DefaultTransport() and 32 KiB copy buffers, as proxy.New builds it, without the bridge's routing, auth and activity tracking. " +
			fmt.Sprintf("Load: wrk -t1, %d rounds of %s per cell, the paths taking turns; each figure is the median of its rounds. ", e.plan.rounds, e.plan.dur) +
			"All on the same machine. Latency rows compare as differences (bridge − other), rates as ratios.",
			fmt.Sprintf("The \"interleaved\" rows come from a Go client (its garbage collector off while it measures) that loads bridge, direct, nginx, "+
				"ReverseProxy and tunnel (section 1c) at once, their requests interleaved, so that a pause of the machine falls on every path alike (CHP is left out "+
				"and paused meanwhile: its Node process goes on working for seconds after a load, and that work landed in the other paths' "+
				"tails): at 1 connection each worker sends one request to each path in turn (closed loop); "+
				"at %d connections each path gets %.0f req/s, spread over its connections and staggered between the paths (open loop), a load "+
				"every path carries, so that the latency is the path's own and not queueing at saturation (which the wrk rows show, and which "+
				"follows from the req/s). %d rounds of %s each; each figure is the median of its rounds. The added-latency targets are judged on "+
				"these rows.", latConns, e.plan.latRate, e.plan.latRounds, e.plan.latDur/time.Duration(max(e.plan.latRounds, 1)))},
	})
	e.section(report.Section{
		Title:   "1c. Proxy, HTTP: tunnel mode vs direct mode",
		Columns: tunnelOrder, Compare: true, Rows: append(pick(rows, tunnelOrder), jobCPU),
		Notes: []string{tunnelNote, "The rows are measured with section 1's, in the same rounds (wrk: the paths taking turns; interleaved: " +
			"loaded at once). The tunnel-mode targets are judged on the 1 KiB req/s at 1 and 32 connections (tunnel ÷ bridge) and on the " +
			"interleaved p50 (tunnel − bridge). The job end's CPU is what a notebook's det-launcher would spend on the node."},
	})
	for _, p := range []string{pBridge, pTunnel} {
		for _, size := range []string{"1k", "1m"} {
			if p == pTunnel && size == "1m" && e.opts.smoke {
				continue // only a finding uses it; the smoke run stays short
			}
			if err := e.profileBridge(ctx, px, p, size, 32); err != nil {
				return err
			}
		}
	}
	return e.tryBigBuffers(ctx, px)
}

// profileBridge takes a CPU profile of the benchmark bridge of path p
// (bridge or tunnel) while wrk loads it and keeps its top functions in
// the notes.
func (e *env) profileBridge(ctx context.Context, px *proxies, p, size string, conns int) error {
	name := fmt.Sprintf("%s-%s-c%d", p, size, conns)
	top, err := e.cpuProfile(ctx, px.pprof[p], name, func() error {
		_, err := load.Wrk(ctx, px.base[p]+size, conns, e.plan.profile+time.Second, px.header(p))
		return err
	})
	if err != nil {
		return err
	}
	what := "bridge"
	if p == pTunnel {
		what = "bridge in tunnel mode"
	}
	e.finding(fmt.Sprintf("### CPU profile: %s, %s responses, %d connections (%s)\n\n```\n%s\n```",
		what, size, conns, name, strings.Join(top[:min(len(top), 26)], "\n")))
	return nil
}

func connLabel(c int) string {
	if c == 1 {
		return "1 conn"
	}
	return fmt.Sprintf("%d conns", c)
}
