package suite

import (
	"strings"
	"testing"

	"github.com/det-slurm/bridge/bench/internal/report"
)

func TestPickKeepsOnlyTheColumns(t *testing.T) {
	rows := []report.Row{{Key: "k", Values: map[string]float64{pBridge: 1, pTunnel: 2, pNginx: 3}}}
	got := pick(rows, tunnelOrder)
	if len(got[0].Values) != 2 || got[0].Values[pTunnel] != 2 || got[0].Values[pBridge] != 1 {
		t.Fatalf("picked %v", got[0].Values)
	}
	if len(rows[0].Values) != 3 {
		t.Fatal("pick changed its input")
	}
}

func TestParseGoStats(t *testing.T) {
	heap := "heap profile: 1: 2 [3: 4] @ heap/1048576\n\n# runtime.MemStats\n# HeapInuse = 4096000\n# Stack = 819200 / 819200\n"
	g, err := parseGoStats(heap, "goroutine profile: total 42\n7 @ 0x1\n")
	if err != nil {
		t.Fatal(err)
	}
	if g.goroutines != 42 || g.heap != 4096000 || g.stack != 819200 {
		t.Fatalf("got %+v", g)
	}
	if _, err := parseGoStats("nothing", "goroutine profile: total 1"); err == nil {
		t.Fatal("no error for a profile without MemStats")
	}
}

// tunnelRun is an env whose figures miss every tunnel-mode target.
func tunnelRun() *env {
	e := &env{plan: planFor(false), profiles: map[string][]string{
		"tunnel-1k-c32": {"      flat  flat%   sum%        cum   cum%",
			"     0.10s  5.00%  5.00%      0.40s 20.00%  github.com/hashicorp/yamux.(*Session).recvLoop",
			"     0.10s  5.00% 10.00%      0.20s 10.00%  github.com/hashicorp/yamux.(*Session).sendNoWait",
			"     0.10s  5.00% 15.00%      0.15s  7.50%  github.com/hashicorp/yamux.(*Session).send"},
		"bridge-idle-ws-5000": {"Showing nodes accounting for 100MB, 100% of 100MB total",
			"      flat  flat%   sum%        cum   cum%",
			"      60MB 60.00% 60.00%       60MB 60.00%  bufio.NewWriterSize (inline)",
			"      40MB 40.00%   100%       40MB 40.00%  net/textproto.readMIMEHeader"},
	}}
	v := func(tun, br float64) map[string]float64 {
		return map[string]float64{pTunnel: tun, pBridge: br, pDirect: 10}
	}
	e.section(report.Section{Title: "1c", Columns: tunnelOrder, Rows: []report.Row{
		{Key: "http.static.1k.c1.rps", Values: v(600, 1000)},
		{Key: "http.static.1k.c32.rps", Values: v(700, 1000)},
		{Key: "http.static.1m.c32.rps", Values: v(200, 1000)},
		{Key: "http.paired.1k.c1.p50", Values: v(400, 200)},
		{Key: "http.paired.1k.c32.p50", Values: v(300, 200)},
		{Key: "http.static.1k.c32.cpu", Values: v(55, 45)},
		{Key: "http.static.1k.c32.jobcpu", Values: map[string]float64{pTunnel: 30}},
	}})
	e.section(report.Section{Title: "3b", Columns: []string{pTunnel, pBridge}, Rows: []report.Row{
		{Key: "mem.idle.many.perconn", Values: v(50, 48)},
		{Key: "mem.idle.many.goroutines", Values: v(4, 4)},
		{Key: "mem.idle.many.heap", Values: v(25, 23)},
		{Key: "mem.idle.many.stack", Values: v(20, 20)},
	}})
	e.section(report.Section{Title: "3c", Columns: []string{pTunnel}, Rows: []report.Row{
		{Key: "mem.tunnels.per", Values: map[string]float64{pTunnel: 80}},
	}})
	return e
}

func TestTunnelTargetsAndFindings(t *testing.T) {
	e := tunnelRun()
	ts := targets(e)
	want := map[string]float64{"target.tunnel_rps_c1": 0.6, "target.tunnel_rps_c32": 0.7, "target.tunnel_p50_added_c1": 200,
		"target.tunnel_p50_added_c32": 100, "target.tunnel_idle_mem": 80, "target.idle_ws_mem_direct": 48, "target.idle_ws_mem_tunnel": 50}
	met := map[string]bool{"target.tunnel_p50_added_c32": true}
	for _, tg := range ts {
		w, ok := want[tg.Key]
		if !ok {
			continue
		}
		delete(want, tg.Key)
		if !tg.Known || tg.Value != w || tg.Met != met[tg.Key] {
			t.Errorf("%s: known %v value %v met %v, want %v met %v", tg.Key, tg.Known, tg.Value, tg.Met, w, met[tg.Key])
		}
	}
	if len(want) > 0 {
		t.Fatalf("targets missing: %v", want)
	}
	e.explain(ts)
	all := strings.Join(e.res.Findings, "\n")
	for _, s := range []string{
		"### Not met: tunnel mode throughput / added latency",
		"bridge + job's end + backend = 95 µs in tunnel mode, a ratio of 0.58",
		"20.00% under yamux's receive loop, 7.50% under its send loop",
		"### Tunnel mode: 1 MiB responses",
		"### Not met: memory per idle websocket",
		"bufio.NewWriterSize 60.00%, net/textproto.readMIMEHeader 40.00%",
		"### Not met: memory per idle tunnel",
	} {
		if !strings.Contains(all, s) {
			t.Errorf("findings lack %q:\n%s", s, all)
		}
	}
}
