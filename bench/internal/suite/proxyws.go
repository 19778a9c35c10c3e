package suite

import (
	"context"
	"fmt"
	"strings"

	"github.com/det-slurm/bridge/bench/internal/load"
	"github.com/det-slurm/bridge/bench/internal/report"
)

func wsURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") + "ws" }

// proxyWS measures small-message round trips and 1 MiB message streams
// through the four paths and the tunnel to the backend's websocket echo.
func proxyWS(ctx context.Context, e *env) error {
	px, err := e.setupProxies(ctx)
	if err != nil {
		return err
	}
	p50 := newRow(kEchoP50, "64 B echo round trip: p50", "us", report.Latency)
	p99 := newRow(kEchoP99, "64 B echo round trip: p99", "us", report.Latency)
	mbs := newRow(kWS1m, "1 MiB messages echoed: MB/s", "MB/s", report.Rate)
	for _, p := range withTunnel(pathOrder) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		lat, err := load.Echo(wsURL(px.base[p]), px.header(p), e.plan.wsEcho/10, e.plan.wsEcho)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		rate, err := load.Throughput(wsURL(px.base[p]), px.header(p), 1<<20, e.plan.wsMsgs)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		e.logf("%-6s websocket echo p50 %8s p99 %8s; 1 MiB messages %.0f MB/s", p, lat.P50, lat.P99, rate)
		p50.Values[p], p99.Values[p], mbs.Values[p] = us(lat.P50), us(lat.P99), rate
	}
	how := fmt.Sprintf("One connection each: %d echoed 64-byte text messages one at a time (after %d warm-up), then %d binary 1 MiB messages "+
		"streamed through the echo; MB/s = 10^6 payload bytes echoed per second.", e.plan.wsEcho, e.plan.wsEcho/10, e.plan.wsMsgs)
	rows := []report.Row{p50, p99, mbs}
	e.section(report.Section{Title: "2. Proxy, websocket: echo on the static backend", Columns: pathOrder, Compare: true,
		Rows: pick(rows, pathOrder), Notes: []string{how}})
	e.section(report.Section{Title: "2b. Proxy, websocket: tunnel mode vs direct mode", Columns: tunnelOrder, Compare: true,
		Rows: pick(rows, tunnelOrder), Notes: []string{tunnelNote, how}})
	return nil
}
