package suite

import (
	"fmt"
	"math"
	"slices"

	"github.com/det-slurm/bridge/bench/internal/report"
)

// cell is one figure: a row's key and a column.
type cell struct {
	k   report.Key
	col string
}

// target is one goal: a figure computed from its inputs and the test
// that it meets the goal.
type target struct {
	id, name, figure, want string
	in                     []cell
	calc                   func(v []float64) float64 // of the inputs' values, in order
	met                    func(float64) bool
}

func cells(k report.Key, cols ...string) []cell {
	out := make([]cell, len(cols))
	for i, c := range cols {
		out[i] = cell{k, c}
	}
	return out
}

func ratio(v []float64) float64 { return v[0] / v[1] } // NaN or ±Inf for 0 ÷ 0 or x ÷ 0: not known
func diff(v []float64) float64  { return v[0] - v[1] }
func diffMs(v []float64) float64 {
	return (v[0] - v[1]) / 1000
}
func atLeast(x float64) func(float64) bool { return func(v float64) bool { return v >= x } }
func atMost(x float64) func(float64) bool  { return func(v float64) bool { return v <= x } }

// targetsFor are the goals, with the figures plan p measures.
func targetsFor(p plan) []target {
	c32 := fmt.Sprintf("%d conns at %.0f req/s per path", latConns, p.latRate)
	ts := []target{
		{"rps_vs_chp", "proxy throughput vs CHP", "1 KiB, 32 conns: bridge ÷ CHP req/s", "≥ 3",
			cells(atConns(kStatic1k, 32, sRPS), pBridge, pCHP), ratio, atLeast(3)},
		{"rps_vs_nginx", "proxy throughput vs nginx", "1 KiB, 32 conns: bridge ÷ nginx req/s", "≥ 0.5",
			cells(atConns(kStatic1k, 32, sRPS), pBridge, pNginx), ratio, atLeast(0.5)},
		{"p99_added_c1", "p99 added latency (1 conn)", "1 KiB, 1 conn, interleaved: bridge − direct p99, ms", "≤ 1 ms",
			cells(atConns(kPaired, 1, sP99), pBridge, pDirect), diffMs, atMost(1)},
		{fmt.Sprintf("p99_added_c%d", latConns), fmt.Sprintf("p99 added latency (%d conns)", latConns),
			"1 KiB, " + c32 + ", interleaved: bridge − direct p99, ms", "≤ 1 ms",
			cells(atConns(kPaired, latConns, sP99), pBridge, pDirect), diffMs, atMost(1)},
		{"large_vs_direct", "1 MiB throughput vs direct", "1 MiB, 32 conns: bridge ÷ direct req/s", "≥ 0.9",
			cells(atConns(kStatic1m, 32, sRPS), pBridge, pDirect), ratio, atLeast(0.9)},
		{"ws_added_p50", "websocket echo added latency", "bridge − direct p50, µs", "≤ 100 µs",
			cells(kEchoP50, pBridge, pDirect), diff, atMost(100)},
		{"idle_ws_rss", "memory with idle websockets", fmt.Sprintf("bridge RSS with %d idle websockets, MiB", p.idle), "≤ 100 MiB",
			cells(kIdleFew, pBridge), nil, atMost(100)},
		{"tunnel_rps_c1", "tunnel mode throughput (1 conn)", "1 KiB, 1 conn: tunnel ÷ bridge (direct mode) req/s", "≥ 0.8",
			cells(atConns(kStatic1k, 1, sRPS), pTunnel, pBridge), ratio, atLeast(0.8)},
		{"tunnel_rps_c32", "tunnel mode throughput (32 conns)", "1 KiB, 32 conns: tunnel ÷ bridge (direct mode) req/s", "≥ 0.8",
			cells(atConns(kStatic1k, 32, sRPS), pTunnel, pBridge), ratio, atLeast(0.8)},
		{"tunnel_p50_added_c1", "tunnel mode added latency (1 conn)", "1 KiB, 1 conn, interleaved: tunnel − bridge (direct mode) p50, µs", "≤ 150 µs",
			cells(atConns(kPaired, 1, sP50), pTunnel, pBridge), diff, atMost(150)},
		{fmt.Sprintf("tunnel_p50_added_c%d", latConns), fmt.Sprintf("tunnel mode added latency (%d conns)", latConns),
			"1 KiB, " + c32 + ", interleaved: tunnel − bridge (direct mode) p50, µs", "≤ 150 µs",
			cells(atConns(kPaired, latConns, sP50), pTunnel, pBridge), diff, atMost(150)},
		{"tunnel_idle_mem", "memory per idle tunnel", fmt.Sprintf("bridge RSS per tunnel with %d idle tunnels, KiB", p.tunnels), "≤ 64 KiB",
			cells(kTunPer, pTunnel), nil, atMost(64)},
		{"idle_ws_mem_direct", "memory per idle websocket (direct mode)",
			fmt.Sprintf("bridge RSS per websocket with %d idle websockets, direct mode, KiB", p.idleMany), "≤ 16 KiB",
			cells(kIdleManyPer, pBridge), nil, atMost(16)},
		{"idle_ws_mem_tunnel", "memory per idle websocket (tunnel mode)",
			fmt.Sprintf("bridge RSS per websocket with %d idle websockets, tunnel mode, KiB", p.idleMany), "≤ 16 KiB",
			cells(kIdleManyPer, pTunnel), nil, atMost(16)},
		{"ttn_over_floor", "time to notebook", "median time to notebook − median floor, s", "≤ 1 s",
			cells(kTTNOver, "median"), nil, atMost(1)},
	}
	var ctl []cell
	for _, s := range []stat{sPerTick, sJobInfo} {
		for _, n := range p.loadN {
			ctl = append(ctl, cell{ctlKey(n, s), pBridge})
		}
	}
	ts = append(ts,
		target{"ctl_per_tick", "controller load independent of notebooks",
			"most bridge job-info RPCs per reconcile tick at any count (−1 if they grow with the count)", "≤ 1 per tick, flat",
			ctl, controllerFigure, func(v float64) bool { return v >= 0 && v <= 1.1 }},
		target{"api_list", "API list", fmt.Sprintf("GET /api/v1/notebooks with %d tasks, median ms", p.apiTasks), "≤ 100 ms",
			cells(kListHTTP, "median"), nil, atMost(100)})
	return ts
}

// controllerFigure takes the per-tick job-info counts, then the per-minute
// ones, of each notebook count: the largest per-tick count, or -1 when the
// per-minute counts grow with the number of notebooks (largest over
// smallest beyond 1.2, with 2 RPCs/min of slack for the once-a-minute
// orphan sweep).
func controllerFigure(v []float64) float64 {
	ticks, perMin := v[:len(v)/2], slices.Clone(v[len(v)/2:])
	slices.Sort(perMin)
	if perMin[len(perMin)-1] > 1.2*perMin[0]+2 {
		return -1
	}
	return slices.Max(ticks)
}

// judge computes the targets from this run's figures d.
func judge(ts []target, d map[string]float64) []report.Target {
	out := make([]report.Target, len(ts))
	for i, t := range ts {
		out[i] = report.Target{Key: "target." + t.id, Name: t.name, Figure: t.figure, Want: t.want}
		v := make([]float64, len(t.in))
		known := true
		for j, c := range t.in {
			v[j], known = d[c.k.Cell(c.col)]
			if !known {
				break
			}
		}
		if !known {
			continue
		}
		x := v[0]
		if t.calc != nil {
			x = t.calc(v)
		}
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out[i].Value, out[i].Known, out[i].Met = x, true, t.met(x)
		}
	}
	return out
}
