package suite

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/det-slurm/bridge/bench/internal/load"
	"github.com/det-slurm/bridge/bench/internal/proc"
	"github.com/det-slurm/bridge/bench/internal/report"
	"github.com/det-slurm/bridge/bench/internal/serve"
)

// latConns is the connection count of the open-loop latency rows.
const latConns = 32

// interleaved are the paths of the interleaved latency rows: not CHP, whose
// Node process goes on working for seconds after a load (collecting the
// 1 MiB runs' buffers) and landed in the other paths' tails (direct's p99
// at 1 connection went from 0.5 to 3 ms). CHP is paused meanwhile.
var interleaved = []string{pBridge, pDirect, pNginx, pBare, pTunnel}

// The before/after table's columns, and its connection counts.
const (
	cNow    = "now"
	cChange = "with the change"
)

var bufferConns = []int{1, 32}

// matrix runs wrk on every path for every connection count, the paths
// taking turns, rounds times, and returns three rows per count: req/s,
// p50 and p99, of the medians of the rounds. With strict, errors on the
// bridge, tunnel or direct path mean the setup is broken; otherwise they
// are noted.
func (e *env) matrix(ctx context.Context, key report.Key, label string, cols []string, loads []load.Target, conns []int, strict bool, rounds int, dur time.Duration) ([]report.Row, error) {
	var rows []report.Row
	for _, c := range conns {
		rps := newRow(atConns(key, c, sRPS), fmt.Sprintf("%s, %s: req/s", label, connLabel(c)), "req/s", report.Rate)
		p50 := newRow(atConns(key, c, sP50), fmt.Sprintf("%s, %s: p50", label, connLabel(c)), "us", report.Latency)
		p99 := newRow(atConns(key, c, sP99), fmt.Sprintf("%s, %s: p99", label, connLabel(c)), "us", report.Latency)
		res, err := load.Rounds(rounds, func() ([]load.Result, error) {
			out := make([]load.Result, len(loads))
			for i, l := range loads {
				var err error
				if out[i], err = load.Wrk(ctx, l.URL, c, dur, l.Header); err != nil {
					return nil, err
				}
			}
			return out, nil
		})
		if err != nil {
			return nil, err
		}
		for i, p := range cols {
			r := res[i]
			e.logf("%-16s %-28s %5d conns: %9.0f req/s  p50 %8s  p99 %8s  errors %d", p, label, c, r.RPS, r.P50, r.P99, r.Errors)
			if err := e.check(r, fmt.Sprintf("%s via %s at %d connections", label, p, c), strict && strictPath(p)); err != nil {
				return nil, err
			}
			rps.Values[p], p50.Values[p], p99.Values[p] = r.RPS, us(r.P50), us(r.P99)
		}
		rows = append(rows, rps, p50, p99)
	}
	return rows, nil
}

// check fails on a result with too many errors when strict, and notes it
// otherwise.
func (e *env) check(r load.Result, what string, strict bool) error {
	if !r.Bad() {
		return nil
	}
	msg := fmt.Sprintf("%s: %d errors in %d requests", what, r.Errors, r.Requests)
	if strict {
		return fmt.Errorf("%s", msg)
	}
	e.note(msg + " (figures kept)")
	return nil
}

// strictPath is true of the paths whose errors mean the setup is broken.
func strictPath(p string) bool { return p == pBridge || p == pDirect || p == pTunnel }

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func connLabel(c int) string {
	if c == 1 {
		return "1 conn"
	}
	return fmt.Sprintf("%d conns", c)
}

// targets are px's paths to size ("1k", "1m"), for matrix.
func (px *proxies) targets(paths []string, size string) []load.Target {
	out := make([]load.Target, len(paths))
	for i, p := range paths {
		out[i] = load.Target{Name: p, URL: px.base[p] + size, Header: px.header(p)}
	}
	return out
}

// proxyHTTP measures 1 KiB and 1 MiB responses from the static backend
// through every path (wrk), the interleaved latency (vegeta), the CPU per
// request, profiles of the bridge in both modes and the buffer A/B.
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
	for _, size := range []struct {
		key         report.Key
		name, label string
	}{{kStatic1k, "1k", "1 KiB"}, {kStatic1m, "1m", "1 MiB"}} {
		r, err := e.matrix(ctx, size.key, size.label, paths, px.targets(paths, size.name), e.plan.conns, true, e.plan.rounds, e.plan.dur)
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
		Title: "1. Proxy, HTTP: static backend", Columns: httpOrder, Compare: true, Rows: pick(rows, httpOrder),
		Notes: []string{fmt.Sprintf("bridge = a real bridge.Server (SQLite store, bearer-token auth, activity tracking) in its own process; "+
			"direct = the backend; nginx %s; CHP = configurable-http-proxy 5.3.0 on Node %s; ReverseProxy = httputil.ReverseProxy alone with "+
			"proxy.DefaultTransport() and 32 KiB buffers. wrk -t1, %d rounds of %s per cell, the paths taking turns, medians of the rounds. "+
			"Interleaved rows: vegeta loads all paths but CHP (paused) at once, round-robin: closed loop at 1 conn, %.0f req/s per path over %d "+
			"conns (open loop); %d rounds of %s, medians. The added-latency targets are judged on these.",
			nginxVersion(), nodeVersion(), e.plan.rounds, e.plan.dur, e.plan.latRate, latConns, e.plan.latRounds,
			e.plan.latDur/time.Duration(max(e.plan.latRounds, 1)))},
	})
	e.section(report.Section{
		Title: "1c. Proxy, HTTP: tunnel mode vs direct mode", Columns: tunnelOrder, Compare: true,
		Rows: append(pick(rows, tunnelOrder), jobCPU), Notes: []string{tunnelNote + " Measured with section 1, in the same rounds."},
	})
	for _, p := range goPaths {
		for _, size := range []string{"1k", "1m"} {
			if p == pTunnel && size == "1m" && e.opts.smoke {
				continue // the smoke run stays short
			}
			name := fmt.Sprintf("%s-%s-c32", p, size)
			err := e.cpuProfile(ctx, px.pprof[p], name, func() error {
				_, err := load.Wrk(ctx, px.base[p]+size, 32, e.plan.profile+time.Second, px.header(p))
				return err
			})
			if err != nil {
				return err
			}
		}
	}
	return e.tryBigBuffers(ctx, px)
}

// pairedLatency measures 1 KiB responses through the interleaved paths at
// once: closed loop at 1 connection, open loop at latConns.
func (e *env) pairedLatency(ctx context.Context, px *proxies) ([]report.Row, error) {
	if pid := px.pid[pCHP]; pid > 0 {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			return nil, fmt.Errorf("pause configurable-http-proxy: %w", err)
		}
		defer syscall.Kill(pid, syscall.SIGCONT)
	}
	time.Sleep(2 * time.Second) // let the last wrk run's work drain
	ts := px.targets(interleaved, "1k")
	var rows []report.Row
	for _, m := range []struct {
		conns int
		label string
		rate  float64
	}{{1, "1 KiB, 1 conn, interleaved", 0}, {latConns, fmt.Sprintf("1 KiB, %d conns at %.0f req/s, interleaved", latConns, e.plan.latRate), e.plan.latRate}} {
		st, err := load.Rounds(e.plan.latRounds, func() ([]load.Result, error) {
			return load.Interleaved(ctx, ts, m.conns, m.rate, e.plan.latDur/time.Duration(max(e.plan.latRounds, 1)))
		})
		if err != nil {
			return nil, err
		}
		p50 := newRow(atConns(kPaired, m.conns, sP50), m.label+": p50", "us", report.Latency)
		p99 := newRow(atConns(kPaired, m.conns, sP99), m.label+": p99", "us", report.Latency)
		for i, p := range interleaved {
			s := st[i]
			e.logf("%-16s %-36s: %6d requests  p50 %8s  p99 %8s  errors %d", p, m.label, s.Requests, s.P50, s.P99, s.Errors)
			if err := e.check(s, m.label+" via "+p, strictPath(p)); err != nil {
				return nil, err
			}
			p50.Values[p], p99.Values[p] = us(s.P50), us(s.P99)
		}
		rows = append(rows, p50, p99)
	}
	return rows, nil
}

// cpuPerRequest loads each path with 1 KiB requests at 32 connections and
// divides the CPU time its process used by the requests answered; for the
// tunnel path also the job end's.
func (e *env) cpuPerRequest(ctx context.Context, px *proxies, paths []string) (report.Row, report.Row, error) {
	row := newRow(kCPU, "1 KiB, 32 conns: CPU per request of the path's process", "us", report.Latency)
	job := newRow(kJobCPU, "1 KiB, 32 conns: CPU per request of the job's end", "us", report.Latency)
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
		if p == pTunnel {
			job.Values[p] = (proc.TreeCPU(px.jobPid) - j0) * 1e6 / float64(r.Requests)
		}
		e.logf("%-16s CPU per 1 KiB request at 32 conns: %.1f µs (job's end %.1f µs)", p, row.Values[p], job.Values[p])
	}
	return row, job, nil
}

// tryBigBuffers compares, for 1 MiB responses, the bare ReverseProxy with
// proxy.New's 32 KiB copy buffers against the same with 256 KiB (not
// settable from outside proxy/, so this is the isolated A/B).
func (e *env) tryBigBuffers(ctx context.Context, px *proxies) error {
	big, _, err := e.startRProxy(ctx, px.backend, 256<<10)
	if err != nil {
		return err
	}
	ls := []load.Target{{URL: px.base[pBare] + "1m"}, {URL: "http://" + big + "/proxy/" + serve.RouteID + "/1m"}}
	rows, err := e.matrix(ctx, kBuffer, "256 KiB copy buffer: 1 MiB", []string{cNow, cChange}, ls, bufferConns, true, e.plan.rounds, e.plan.dur)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.Key != atConns(kBuffer, 1, sP50) && r.Key != atConns(kBuffer, 32, sP50) {
			e.ba = append(e.ba, r)
		}
	}
	return nil
}
