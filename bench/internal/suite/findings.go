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

Proposed change: proxy/proxy.go, bufSize: 32 KiB → 256 KiB (the ReverseProxy copy buffers; 8× fewer system calls
per MiB). Isolated A/B of httputil.ReverseProxy with proxy.DefaultTransport() (section 7): 1 connection %.0f → %.0f
req/s, 32 connections %.0f → %.0f. On one 2-core host the 0.9× target is out of reach for any proxy; judging it
needs the client, the proxy and the backend on separate hosts.`,
			e.share("bridge-1m-c32", "linux.Syscall6"),
			safeDiv(f("http.static.1m.c32.rps.nginx"), f("http.static.1m.c32.rps.direct")),
			safeDiv(f("http.static.1m.c32.rps.CHP"), f("http.static.1m.c32.rps.direct")),
			safeDiv(f("http.static.1m.c32.rps.bridge"), f("http.static.1m.c32.rps.direct")),
			f("ba.buffer.1m.c1.rps."+cNow), f("ba.buffer.1m.c1.rps."+cChange),
			f("ba.buffer.1m.c32.rps."+cNow), f("ba.buffer.1m.c32.rps."+cChange)))
	}
	if missed["api_list"] {
		e.finding(fmt.Sprintf(`### Not met: listing %d notebooks

Cause (profile bridge-list): %s of the time in store.(*Store).ListTasks, which reads all 20 columns of every row
(the merged config JSON, tokens and paths included) through cgo and sorts by registered_time with no index for
(type, owner); %s in encoding the %d notebooks as JSON.

Proposed change: bridge/store/store.go, a migration 4: CREATE INDEX tasks_list ON tasks(type, owner,
registered_time); bridge/store/tasks.go, ListTasks: select only the columns toAPI uses (id, owner, description, state,
reason, pool, slots, job_id, node, registered_time, exit_code). Tried on the same data (section 7): median %.1f →
%.1f ms. Beyond that, bridge/notebooks.go handleListNotebooks: limit and offset parameters, as Determined's
GetNotebooks has, so that det notebook list asks for pages instead of %d KiB at once.`,
			e.plan.apiTasks, e.share("bridge-list", "ListTasks"), e.share("bridge-list", "json.(*Encoder).Encode"), e.plan.apiTasks,
			f("ba.fastlist.median."+cNow), f("ba.fastlist.median."+cChange), e.listKiB))
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
// responses, from the profile bridge-1k-c32 and the bare ReverseProxy's
// figures of the same run.
func (e *env) explainThroughput(f func(string) float64) string {
	const prof = "bridge-1k-c32"
	br, bare := f("http.static.1k.c32.rps."+pBridge), f("http.static.1k.c32.rps."+pBare)
	ng, chp := f("http.static.1k.c32.rps."+pNginx), f("http.static.1k.c32.rps."+pCHP)
	var b strings.Builder
	b.WriteString("### Not met: proxy throughput / added latency under load\n\n")
	if auth := pct(e.share(prof, "UserByToken")); auth >= 10 {
		fmt.Fprintf(&b, "Cause: every proxied request looks its bearer token up in SQLite (bridge.(*Server).authorizeProxy → userOf → "+
			"store.(*Store).UserByToken), through cgo and a database/sql pool of one connection (store.Open sets SetMaxOpenConns(1)), so "+
			"requests queue on it: %.0f%% of the bridge's CPU at 32 connections (profile %s). Proposed change: bridge/http.go, userOf: "+
			"answer from an in-memory cache (token → user, a TTL of a few seconds, emptied when users or tokens change).\n\n", auth, prof)
	}
	routing := pct(e.share(prof, "mux.(*Router).ServeHTTP")) - pct(e.share(prof, "proxy.(*Handler).ServeHTTP"))
	fmt.Fprintf(&b, "At 32 connections the bridge does %.0f req/s; httputil.ReverseProxy alone, with the bridge's transport and buffers, %.0f "+
		"(the bridge is %.2f× of it); nginx %.0f and CHP %.0f. So the bare ReverseProxy is at %.2f× nginx and %.1f× CHP on this machine. "+
		"In the bridge's profile (%s): %s of CPU in read/write system calls, %s in httputil.ReverseProxy.ServeHTTP, %.0f%% in gorilla/mux "+
		"before the proxy's handler, %s in the token lookup (0%% = not among the profile's top functions).\n\n",
		br, bare, safeDiv(br, bare), ng, chp, safeDiv(bare, ng), safeDiv(bare, chp), prof,
		e.share(prof, "linux.Syscall6"), e.share(prof, "ReverseProxy).ServeHTTP"), routing, e.share(prof, "UserByToken"))
	fmt.Fprintf(&b, "At 1 connection the bridge adds %s (p50) and %s (p99) to the bare ReverseProxy's latency, which itself adds %s and %s "+
		"to the backend's.\n\n",
		report.Format(f("http.static.1k.c1.p50."+pBridge)-f("http.static.1k.c1.p50."+pBare), "us"),
		report.Format(f("http.static.1k.c1.p99."+pBridge)-f("http.static.1k.c1.p99."+pBare), "us"),
		report.Format(f("http.static.1k.c1.p50."+pBare)-f("http.static.1k.c1.p50."+pDirect), "us"),
		report.Format(f("http.static.1k.c1.p99."+pBare)-f("http.static.1k.c1.p99."+pDirect), "us"))
	lost := "it keeps up with the bare proxy here, within the noise"
	if br < bare {
		lost = fmt.Sprintf("it loses %.0f%% of the bare proxy's rate", 100*(1-br/bare))
	}
	if safeDiv(bare, ng) < 0.5 {
		fmt.Fprintf(&b, "The ≥ 0.5× nginx target is above what httputil.ReverseProxy itself does here (%.2f×); as for the bridge's own work, "+
			"%s. Proposed change: bridge/http.go, Handler: send paths under /proxy/ straight to the "+
			"proxy's handler ahead of gorilla/mux (a top-level http.HandlerFunc with a prefix test), which takes the router's share. Closing "+
			"the rest of the gap to nginx needs a proxy core other than net/http's ReverseProxy, which STYLE.md (habit 8) rules out: the target "+
			"should be stated against the bare ReverseProxy (≥ 0.8× of it) rather than nginx.", safeDiv(bare, ng), lost)
	} else {
		fmt.Fprintf(&b, "The bare ReverseProxy meets the target (%.2f× nginx), so the gap is the bridge's own work around it. Proposed "+
			"change: bridge/http.go, Handler: send paths under /proxy/ to the proxy ahead of gorilla/mux, then look again at the profile.", safeDiv(bare, ng))
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
