package suite

import (
	"fmt"
	"strings"

	"github.com/det-slurm/bridge/bench/internal/report"
)

// explain adds, for each missed target, its cause as the profiles and
// the before/after rows of this run show it, and the change proposed.
func (e *env) explain(ts []report.Target) {
	d := e.res.Data()
	missed := map[string]bool{}
	for _, t := range ts {
		if t.Known && !t.Met {
			missed[strings.TrimPrefix(t.Key, "target.")] = true
		}
	}
	f := func(k string) float64 { return d[k] }
	profiles := e.res.Findings
	e.res.Findings = nil
	defer func() { e.res.Findings = append(e.res.Findings, profiles...) }()
	if missed["rps_vs_nginx"] || missed["rps_vs_chp"] || missed["p99_added_c1"] || missed["p99_added_c32"] {
		e.finding(e.explainThroughput(f))
	}
	if missed["large_vs_direct"] {
		e.finding(fmt.Sprintf(`### Not met: 1 MiB responses vs direct

Cause: a proxy moves every byte through the kernel twice more than the backend answering directly (read from the
backend, write to the client), and here the load generator, the backend and the proxy share two cores: %s of the
bridge's CPU is read/write system calls (profile bridge-1m-c32), 32 KiB at a time. No proxy escapes it on one host:
nginx reaches %.2f× direct and CHP %.2f× in this run, against the bridge's %.2f×.

Tried: proxy/proxy.go, bufSize 32 KiB → 256 KiB (the ReverseProxy copy buffers; 8× fewer system calls per MiB).
Isolated A/B of httputil.ReverseProxy with proxy.DefaultTransport() (section 7): 1 connection %.0f → %.0f req/s,
32 connections %.0f → %.0f; not adopted while it gains nothing at load for 8× the memory per streaming response.
On one 2-core host the 0.9× target is out of reach for any proxy: direct has two
stages sharing the two cores (backend writes, wrk reads), a proxy adds a third that copies the same bytes twice,
so at equal cost per stage 2/3 of direct is the ceiling; judging the target needs the client, the proxy and the
backend on separate hosts.`,
			e.share("bridge-1m-c32", "linux.Syscall6"),
			safeDiv(f("http.static.1m.c32.rps.nginx"), f("http.static.1m.c32.rps.direct")),
			safeDiv(f("http.static.1m.c32.rps.CHP"), f("http.static.1m.c32.rps.direct")),
			safeDiv(f("http.static.1m.c32.rps.bridge"), f("http.static.1m.c32.rps.direct")),
			f("ba.buffer.1m.c1.rps."+cNow), f("ba.buffer.1m.c1.rps."+cChange),
			f("ba.buffer.1m.c32.rps."+cNow), f("ba.buffer.1m.c32.rps."+cChange)))
	}
	if missed["api_list"] {
		e.finding(fmt.Sprintf(`### Not met: listing %d notebooks

In the profile bridge-list: %s of the time in store.(*Store).ListTasks (the narrow query over the tasks_list index,
through cgo), %s in encoding the %d KiB answer as JSON. Next: limit and offset parameters, as Determined's
GetNotebooks has, so that det notebook list asks for pages.`,
			e.plan.apiTasks, e.share("bridge-list", "ListTasks"), e.share("bridge-list", "json.(*Encoder).Encode"), e.listKiB))
	}
	if missed["tunnel_rps_c1"] || missed["tunnel_rps_c32"] || missed["tunnel_p50_added_c1"] || missed[fmt.Sprintf("tunnel_p50_added_c%d", latConns)] {
		e.finding(e.explainTunnelRate(f))
	}
	if _, ok := d["http.static.1m.c32.rps."+pTunnel]; ok && safeDiv(f("http.static.1m.c32.rps."+pTunnel), f("http.static.1m.c32.rps."+pBridge)) < 0.8 {
		e.finding(e.explainTunnelLarge(f))
	}
	if missed["idle_ws_mem_direct"] || missed["idle_ws_mem_tunnel"] || missed["tunnel_idle_mem"] {
		e.finding(e.explainIdleMemory(f, missed))
	}
	for _, k := range []string{"ws_added_p50", "idle_ws_rss", "ttn_over_floor", "ctl_per_tick"} {
		if missed[k] {
			e.finding(fmt.Sprintf("### Not met: %s\n\nNo analysis of this one is built into the suite; see the figures of its section and the profiles above.", k))
		}
	}
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// explainThroughput says where the bridge's time goes for small
// responses, from the profile bridge-1k-c32, the CPU each path's process
// spends per request and the bare ReverseProxy's figures of the same run.
func (e *env) explainThroughput(f func(string) float64) string {
	const prof = "bridge-1k-c32"
	rps := func(p string) float64 { return f("http.static.1k.c32.rps." + p) }
	cpu := func(p string) float64 { return f("http.static.1k.c32.cpu." + p) }
	br, bare, ng, chp := rps(pBridge), rps(pBare), rps(pNginx), rps(pCHP)
	var b strings.Builder
	b.WriteString("### Not met: proxy throughput / added latency\n\n")
	fmt.Fprintf(&b, "At 32 connections the bridge does %.0f req/s; httputil.ReverseProxy alone, with the bridge's transport and buffers, %.0f "+
		"(the bridge is %.2f× of it); nginx %.0f and CHP %.0f: the bare ReverseProxy is at %.2f× nginx and %.1f× CHP on this machine. "+
		"CPU per request of each path's own process: bridge %.0f µs, bare ReverseProxy %.0f µs, nginx %.0f µs, CHP %.0f µs (the backend "+
		"alone %.0f µs). Load generator, backend and proxy share two cores, so the rate follows the sum of those costs.\n\n",
		br, bare, safeDiv(br, bare), ng, chp, safeDiv(bare, ng), safeDiv(bare, chp),
		cpu(pBridge), cpu(pBare), cpu(pNginx), cpu(pCHP), cpu(pDirect))
	fmt.Fprintf(&b, "In the bridge's profile (%s): %s of CPU in read/write system calls, %s under httputil.ReverseProxy.ServeHTTP "+
		"(net/http's transport: a request crosses three goroutines, the server's, the transport's writer and its reader), %s under "+
		"the bridge's token check (0%% = not among the profile's top functions).\n\n",
		prof, e.share(prof, "linux.Syscall6"), e.share(prof, "ReverseProxy).ServeHTTP"), e.share(prof, "authorizeProxy"))
	fmt.Fprintf(&b, "Latency at a load every path carries (interleaved rows): the bridge adds %s (p50) and %s (p99) at 1 connection "+
		"and %s and %s at %d connections over direct; the bare ReverseProxy adds %s and %s at 1 connection.\n\n",
		report.Format(f("http.paired.1k.c1.p50."+pBridge)-f("http.paired.1k.c1.p50."+pDirect), "us"),
		report.Format(f("http.paired.1k.c1.p99."+pBridge)-f("http.paired.1k.c1.p99."+pDirect), "us"),
		report.Format(f(fmt.Sprintf("http.paired.1k.c%d.p50.%s", latConns, pBridge))-f(fmt.Sprintf("http.paired.1k.c%d.p50.%s", latConns, pDirect)), "us"),
		report.Format(f(fmt.Sprintf("http.paired.1k.c%d.p99.%s", latConns, pBridge))-f(fmt.Sprintf("http.paired.1k.c%d.p99.%s", latConns, pDirect)), "us"),
		latConns,
		report.Format(f("http.paired.1k.c1.p50."+pBare)-f("http.paired.1k.c1.p50."+pDirect), "us"),
		report.Format(f("http.paired.1k.c1.p99."+pBare)-f("http.paired.1k.c1.p99."+pDirect), "us"))
	dp50, dp99 := f(fmt.Sprintf("http.paired.1k.c%d.p50.%s", latConns, pDirect)), f(fmt.Sprintf("http.paired.1k.c%d.p99.%s", latConns, pDirect))
	fmt.Fprintf(&b, "At %d connections the backend answering directly has a p99 of %s, %.0f× its p50 of %s, at a load that keeps the "+
		"machine mostly idle, and nginx adds %s to it: a tail that every path shares is the machine's, not a proxy's.\n\n", latConns, report.Format(dp99, "us"), safeDiv(dp99, dp50), report.Format(dp50, "us"),
		report.Format(f(fmt.Sprintf("http.paired.1k.c%d.p99.%s", latConns, pNginx))-dp99, "us"))
	if safeDiv(bare, ng) < 0.5 {
		fmt.Fprintf(&b, "The ≥ 0.5× nginx target is above what httputil.ReverseProxy itself does here (%.2f×), and the bridge is at %.2f× "+
			"of the bare proxy: what is left is net/http's own cost per request, which only a proxy core other than net/http's "+
			"ReverseProxy would remove (STYLE.md, habit 8, rules that out).", safeDiv(bare, ng), safeDiv(br, bare))
	} else {
		fmt.Fprintf(&b, "The bare ReverseProxy meets the target (%.2f× nginx), so the gap is the bridge's own work around it: see the "+
			"profile below.", safeDiv(bare, ng))
	}
	return b.String()
}

// pct reads "36.70%" as 36.7; 0 when it is not a percentage.
func pct(s string) float64 {
	var v float64
	if _, err := fmt.Sscanf(strings.TrimSuffix(s, "%"), "%g", &v); err != nil {
		return 0
	}
	return v
}
