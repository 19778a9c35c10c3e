package suite

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/det-slurm/bridge/bench/internal/report"
)

// targets judges the goals on this run's figures.
func targets(e *env) []report.Target {
	d := e.res.Data()
	get := func(k string) (float64, bool) { v, ok := d[k]; return v, ok }
	ratio := func(a, b string) (float64, bool) {
		x, ok1 := get(a)
		y, ok2 := get(b)
		if !ok1 || !ok2 || y == 0 {
			return 0, false
		}
		return x / y, true
	}
	diff := func(a, b string) (float64, bool) {
		x, ok1 := get(a)
		y, ok2 := get(b)
		return x - y, ok1 && ok2
	}
	var out []report.Target
	add := func(key, name, figure, want string, v float64, ok bool, met func(float64) bool) {
		t := report.Target{Key: "target." + key, Name: name, Figure: figure, Want: want, Value: v, Known: ok}
		if ok {
			t.Met = met(v)
		}
		out = append(out, t)
	}
	atLeast := func(x float64) func(float64) bool { return func(v float64) bool { return v >= x } }
	atMost := func(x float64) func(float64) bool { return func(v float64) bool { return v <= x } }

	v, ok := ratio("http.static.1k.c32.rps.bridge", "http.static.1k.c32.rps.CHP")
	add("rps_vs_chp", "proxy throughput vs CHP", "1 KiB, 32 conns: bridge ÷ CHP req/s", "≥ 3", v, ok, atLeast(3))
	v, ok = ratio("http.static.1k.c32.rps.bridge", "http.static.1k.c32.rps.nginx")
	add("rps_vs_nginx", "proxy throughput vs nginx", "1 KiB, 32 conns: bridge ÷ nginx req/s", "≥ 0.5", v, ok, atLeast(0.5))
	v, ok = diff("http.paired.1k.c1.p99.bridge", "http.paired.1k.c1.p99.direct")
	add("p99_added_c1", "p99 added latency (1 conn)", "1 KiB, 1 conn, interleaved: bridge − direct p99, ms", "≤ 1 ms", v/1000, ok, atMost(1))
	v, ok = diff(fmt.Sprintf("http.paired.1k.c%d.p99.bridge", latConns), fmt.Sprintf("http.paired.1k.c%d.p99.direct", latConns))
	add(fmt.Sprintf("p99_added_c%d", latConns), fmt.Sprintf("p99 added latency (%d conns)", latConns),
		fmt.Sprintf("1 KiB, %d conns at %.0f req/s per path, interleaved: bridge − direct p99, ms", latConns, e.plan.latRate), "≤ 1 ms", v/1000, ok, atMost(1))
	v, ok = ratio("http.static.1m.c32.rps.bridge", "http.static.1m.c32.rps.direct")
	add("large_vs_direct", "1 MiB throughput vs direct", "1 MiB, 32 conns: bridge ÷ direct req/s", "≥ 0.9", v, ok, atLeast(0.9))
	v, ok = diff("ws.echo.p50.bridge", "ws.echo.p50.direct")
	add("ws_added_p50", "websocket echo added latency", "bridge − direct p50, µs", "≤ 100 µs", v, ok, atMost(100))
	v, ok = get("mem.idle.after.bridge")
	add("idle_ws_rss", "memory with idle websockets", fmt.Sprintf("bridge RSS with %d idle websockets, MiB", e.plan.idle), "≤ 100 MiB", v, ok, atMost(100))
	for _, c := range []int{1, 32} {
		v, ok = ratio(fmt.Sprintf("http.static.1k.c%d.rps.tunnel", c), fmt.Sprintf("http.static.1k.c%d.rps.bridge", c))
		add(fmt.Sprintf("tunnel_rps_c%d", c), fmt.Sprintf("tunnel mode throughput (%s)", connLabel(c)),
			fmt.Sprintf("1 KiB, %s: tunnel ÷ bridge (direct mode) req/s", connLabel(c)), "≥ 0.8", v, ok, atLeast(0.8))
	}
	v, ok = diff("http.paired.1k.c1.p50.tunnel", "http.paired.1k.c1.p50.bridge")
	add("tunnel_p50_added_c1", "tunnel mode added latency (1 conn)", "1 KiB, 1 conn, interleaved: tunnel − bridge (direct mode) p50, µs",
		"≤ 150 µs", v, ok, atMost(150))
	v, ok = diff(fmt.Sprintf("http.paired.1k.c%d.p50.tunnel", latConns), fmt.Sprintf("http.paired.1k.c%d.p50.bridge", latConns))
	add(fmt.Sprintf("tunnel_p50_added_c%d", latConns), fmt.Sprintf("tunnel mode added latency (%d conns)", latConns),
		fmt.Sprintf("1 KiB, %d conns at %.0f req/s per path, interleaved: tunnel − bridge (direct mode) p50, µs", latConns, e.plan.latRate),
		"≤ 150 µs", v, ok, atMost(150))
	v, ok = get("mem.tunnels.per.tunnel")
	add("tunnel_idle_mem", "memory per idle tunnel", fmt.Sprintf("bridge RSS per tunnel with %d idle tunnels, KiB", e.plan.tunnels), "≤ 64 KiB", v, ok, atMost(64))
	for _, p := range []string{pBridge, pTunnel} {
		mode := map[string]string{pBridge: "direct", pTunnel: "tunnel"}[p]
		v, ok = get("mem.idle.many.perconn." + p)
		add("idle_ws_mem_"+mode, fmt.Sprintf("memory per idle websocket (%s mode)", mode),
			fmt.Sprintf("bridge RSS per websocket with %d idle websockets, %s mode, KiB", e.plan.idleMany, mode), "≤ 16 KiB", v, ok, atMost(16))
	}
	v, ok = get("ttn.over.median")
	add("ttn_over_floor", "time to notebook", "median time to notebook − median floor, s", "≤ 1 s", v, ok, atMost(1))
	v, ok = controllerFigure(d)
	add("ctl_per_tick", "controller load independent of notebooks", "most bridge job-info RPCs per reconcile tick at any count (−1 if they grow with the count)",
		"≤ 1 per tick, flat", v, ok, func(v float64) bool { return v >= 0 && v <= 1.1 })
	v, ok = get("api.list.http.median")
	add("api_list", "API list", fmt.Sprintf("GET /api/v1/notebooks with %d tasks, median ms", e.plan.apiTasks), "≤ 100 ms", v, ok, atMost(100))
	return out
}

// controllerFigure is the largest per-tick job-info count over the
// notebook counts measured, or -1 when the per-minute counts grow with
// the number of notebooks (largest over smallest beyond 1.2, with 2
// RPCs/min of slack for the once-a-minute orphan sweep).
func controllerFigure(d map[string]float64) (float64, bool) {
	var ticks, perMin []float64
	for k, v := range d {
		if strings.HasPrefix(k, "ctl.n") && strings.HasSuffix(k, ".pertick.bridge") {
			ticks = append(ticks, v)
		}
		if strings.HasPrefix(k, "ctl.n") && strings.HasSuffix(k, ".jobinfo.bridge") {
			perMin = append(perMin, v)
		}
	}
	if len(ticks) == 0 || len(perMin) == 0 {
		return 0, false
	}
	sort.Float64s(perMin)
	if perMin[len(perMin)-1] > 1.2*perMin[0]+2 {
		return -1, true
	}
	worst := 0.0
	for _, t := range ticks {
		worst = math.Max(worst, t)
	}
	return worst, true
}
