package suite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/det-slurm/bridge/bench/internal/proc"
	"github.com/det-slurm/bridge/bench/internal/report"
	"github.com/det-slurm/bridge/bench/internal/wsbench"
)

func wsURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") + "ws" }

// proxyWS measures small-message round trips and 1 MiB message streams
// through the four paths to the backend's websocket echo.
func proxyWS(ctx context.Context, e *env) error {
	px, err := e.setupProxies(ctx)
	if err != nil {
		return err
	}
	p50 := report.Row{Key: "ws.echo.p50", Label: "64 B echo round trip: p50", Unit: "us", Kind: report.Latency, Values: map[string]float64{}}
	p99 := report.Row{Key: "ws.echo.p99", Label: "64 B echo round trip: p99", Unit: "us", Kind: report.Latency, Values: map[string]float64{}}
	mbs := report.Row{Key: "ws.1m.mbs", Label: "1 MiB messages echoed: MB/s", Unit: "MB/s", Kind: report.Rate, Values: map[string]float64{}}
	for _, p := range pathOrder {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		lat, err := wsbench.Echo(wsURL(px.base[p]), px.header, e.plan.wsEcho/10, e.plan.wsEcho)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		rate, err := wsbench.Throughput(wsURL(px.base[p]), px.header, 1<<20, e.plan.wsMsgs)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		e.logf("%-6s websocket echo p50 %8s p99 %8s; 1 MiB messages %.0f MB/s", p, lat.P50, lat.P99, rate)
		p50.Values[p], p99.Values[p], mbs.Values[p] = us(lat.P50), us(lat.P99), rate
	}
	e.section(report.Section{
		Title: "2. Proxy, websocket: echo on the static backend", Columns: pathOrder, Compare: true,
		Rows: []report.Row{p50, p99, mbs},
		Notes: []string{fmt.Sprintf("One connection each: %d echoed 64-byte text messages one at a time (after %d warm-up), then %d binary 1 MiB messages "+
			"streamed through the echo (writer ahead of the reader); MB/s = 10^6 payload bytes echoed per second.", e.plan.wsEcho, e.plan.wsEcho/10, e.plan.wsMsgs)},
	})
	return nil
}

// idleMemory opens idle websockets through each proxy and reads its
// resident memory before and after.
func idleMemory(ctx context.Context, e *env) error {
	px, err := e.setupProxies(ctx)
	if err != nil {
		return err
	}
	n := e.plan.idle
	before := report.Row{Key: "mem.idle.before", Label: "RSS, no websockets", Unit: "MiB", Kind: report.Latency, Values: map[string]float64{}}
	after := report.Row{Key: "mem.idle.after", Label: fmt.Sprintf("RSS, %d idle websockets", n), Unit: "MiB", Kind: report.Latency, Values: map[string]float64{}}
	per := report.Row{Key: "mem.idle.perconn", Label: "per connection (KiB)", Unit: "KiB", Kind: report.Latency, Values: map[string]float64{}}
	for _, p := range []string{pBridge, pNginx, pCHP} {
		b, err := proc.RSS(px.pid[p])
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		idle, err := wsbench.OpenIdle(wsURL(px.base[p]), px.header, n)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		time.Sleep(2 * time.Second) // let allocations settle
		a, err := proc.RSS(px.pid[p])
		idle.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		e.logf("%-6s RSS %.1f MiB -> %.1f MiB with %d idle websockets", p, mib(b), mib(a), n)
		before.Values[p], after.Values[p] = mib(b), mib(a)
		per.Values[p] = float64(a-b) / 1024 / float64(n)
		time.Sleep(time.Second) // let the closes finish before the next proxy
	}
	e.section(report.Section{
		Title: "3. Memory: idle proxied websockets", Columns: []string{pBridge, pNginx, pCHP}, Compare: true,
		Rows: []report.Row{before, after, per},
		Notes: []string{"Resident memory (VmRSS, the process and its children) of the benchmark bridge process, nginx (master and workers) and configurable-http-proxy, " +
			"before and 2 s after opening the websockets to the backend's echo; no messages are sent."},
	})
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
