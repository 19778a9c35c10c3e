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
		e.finding(fmt.Sprintf(`### Not met: proxy throughput / added latency under load

Cause: every proxied request looks its bearer token up in SQLite (bridge.(*Server).authorizeProxy → userOf →
store.(*Store).UserByToken), through cgo and a database/sql pool of one connection (store.Open sets
SetMaxOpenConns(1)), so all requests queue on it: %s of the bridge's CPU at 32 connections (profile bridge-1k-c32).

Proposed change: bridge/http.go, userOf: answer from an in-memory cache (token → *store.User, a TTL of a few seconds,
bounded size) before calling store.UserByToken; drop the cache on logout (RevokeToken), RevokeTaskTokens, SetActive
and SetPassword. Tried here by wrapping the bridge's Store (section 7): 32 connections %.0f → %.0f req/s (%.2f×),
p99 %s → %s; 1 connection %.0f → %.0f req/s. What is left after it is net/http and httputil.ReverseProxy itself
(%s of CPU in write/read syscalls in profile bridge-tokencache-1k-c32); nginx does %.0f req/s here, so with the cache
the bridge is at about %.2f× nginx and %.1f× CHP.`,
			e.share("bridge-1k-c32", "UserByToken"),
			f("ba.tokencache.1k.c32.rps."+cNow), f("ba.tokencache.1k.c32.rps."+cChange), safeDiv(f("ba.tokencache.1k.c32.rps."+cChange), f("ba.tokencache.1k.c32.rps."+cNow)),
			report.Format(f("ba.tokencache.1k.c32.p99."+cNow), "us"), report.Format(f("ba.tokencache.1k.c32.p99."+cChange), "us"),
			f("ba.tokencache.1k.c1.rps."+cNow), f("ba.tokencache.1k.c1.rps."+cChange),
			e.share("bridge-tokencache-1k-c32", "linux.Syscall6"), f("http.static.1k.c32.rps.nginx"),
			safeDiv(f("ba.tokencache.1k.c32.rps."+cChange), f("http.static.1k.c32.rps.nginx")),
			safeDiv(f("ba.tokencache.1k.c32.rps."+cChange), f("http.static.1k.c32.rps.CHP"))))
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
