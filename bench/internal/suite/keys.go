package suite

import (
	"fmt"

	"github.com/det-slurm/bridge/bench/internal/report"
)

// The rows' keys. A row measured at several connection counts is
// atConns(key, conns, stat); the controller rows are ctlKey(n, stat).
const (
	kStatic1k report.Key = "http.static.1k"
	kStatic1m report.Key = "http.static.1m"
	kPaired   report.Key = "http.paired.1k" // interleaved (vegeta)
	kJupyter  report.Key = "http.jupyter"
	kBuffer   report.Key = "ba.buffer.1m" // before/after: 256 KiB copy buffers
	kCPU      report.Key = "http.static.1k.c32.cpu"
	kJobCPU   report.Key = "http.static.1k.c32.jobcpu"

	kEchoP50 report.Key = "ws.echo.p50"
	kEchoP99 report.Key = "ws.echo.p99"
	kWS1m    report.Key = "ws.1m.mbs"

	kIdleBefore     report.Key = "mem.idle.before"
	kIdleFew        report.Key = "mem.idle.after"
	kIdleFewPer     report.Key = "mem.idle.perconn"
	kIdleMany       report.Key = "mem.idle.many.after"
	kIdleManyPer    report.Key = "mem.idle.many.perconn"
	kIdleGoroutines report.Key = "mem.idle.many.goroutines"
	kIdleHeap       report.Key = "mem.idle.many.heap"
	kIdleStack      report.Key = "mem.idle.many.stack"
	kIdleJob        report.Key = "mem.idle.many.job"

	kTunBefore     report.Key = "mem.tunnels.before"
	kTunAfter      report.Key = "mem.tunnels.after"
	kTunPer        report.Key = "mem.tunnels.per"
	kTunGoroutines report.Key = "mem.tunnels.goroutines"
	kTunHeap       report.Key = "mem.tunnels.heap"
	kTunStack      report.Key = "mem.tunnels.stack"
	kTunJob        report.Key = "mem.tunnels.job"

	kTTN      report.Key = "ttn.bridge"
	kFloor    report.Key = "ttn.floor"
	kTTNOver  report.Key = "ttn.over"
	kListHTTP report.Key = "api.list.http"
	kListCLI  report.Key = "api.list.cli"
)

// stat is the figure of a row measured at several connection counts.
type stat string

const (
	sRPS     stat = "rps"
	sP50     stat = "p50"
	sP99     stat = "p99"
	sJobInfo stat = "jobinfo" // controller: job-info RPCs per minute
	sAllRPC  stat = "all"     // controller: all RPCs per minute
	sPerTick stat = "pertick" // controller: job-info RPCs per reconcile tick
	sOther   stat = "other"   // the second cluster's controller: the bridge's RPCs per minute
)

func atConns(k report.Key, conns int, s stat) report.Key {
	return report.Key(fmt.Sprintf("%s.c%d.%s", k, conns, s))
}

func ctlKey(n int, s stat) report.Key { return report.Key(fmt.Sprintf("ctl.n%d.%s", n, s)) }

// The columns of the time and count sections.
var spreadCols = []string{"median", "fastest", "slowest"}

const cSqueue = "squeue -j per notebook / 30 s"

// planKeys are the figures a run of plan p produces (every phase, the
// cluster's included), by data key: what the targets may ask for.
func planKeys(p plan) map[string]bool {
	out := map[string]bool{}
	add := func(cols []string, keys ...report.Key) {
		for _, k := range keys {
			for _, c := range cols {
				out[k.Cell(c)] = true
			}
		}
	}
	byConns := func(k report.Key, conns []int, cols []string, stats ...stat) {
		for _, c := range conns {
			for _, s := range stats {
				add(cols, atConns(k, c, s))
			}
		}
	}
	byConns(kStatic1k, p.conns, withTunnel(httpOrder), sRPS, sP50, sP99)
	byConns(kStatic1m, p.conns, withTunnel(httpOrder), sRPS, sP50, sP99)
	byConns(kPaired, []int{1, latConns}, interleaved, sP50, sP99)
	byConns(kJupyter, p.jupyterCs, pathOrder, sRPS, sP50, sP99)
	byConns(kBuffer, bufferConns, []string{cNow, cChange}, sRPS, sP99)
	add(withTunnel(httpOrder), kCPU)
	add([]string{pTunnel}, kJobCPU, kIdleJob, kTunBefore, kTunAfter, kTunPer, kTunGoroutines, kTunHeap, kTunStack, kTunJob)
	add(withTunnel(pathOrder), kEchoP50, kEchoP99, kWS1m)
	add(idlePaths, kIdleBefore, kIdleFew, kIdleFewPer, kIdleMany, kIdleManyPer)
	add(goPaths, kIdleGoroutines, kIdleHeap, kIdleStack)
	add(spreadCols, kTTN, kFloor, kListHTTP, kListCLI)
	add(spreadCols[:1], kTTNOver)
	for _, n := range p.loadN {
		add([]string{pBridge, cSqueue}, ctlKey(n, sJobInfo), ctlKey(n, sAllRPC))
		add([]string{pBridge}, ctlKey(n, sPerTick), ctlKey(n, sOther))
	}
	return out
}
