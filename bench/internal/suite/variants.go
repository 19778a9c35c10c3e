package suite

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/det-slurm/bridge/bench/internal/load"
	"github.com/det-slurm/bridge/bench/internal/proc"
	"github.com/det-slurm/bridge/bench/internal/report"
	"github.com/det-slurm/bridge/proxy"
)

// The before/after table: each proposed change, tried from bench/ on
// the same machine in the same run, next to the code as it is.
const (
	cNow    = "now"
	cChange = "with the change"
)

func (e *env) beforeAfter(rows ...report.Row) { e.ba = append(e.ba, rows...) }

// abRows measures url a (now) and b (with the change) alternately with
// wrk at each connection count.
func (e *env) abRows(ctx context.Context, key, label string, a, b load.Target, conns []int) ([]report.Row, error) {
	var rows []report.Row
	for _, c := range conns {
		rps := report.Row{Key: fmt.Sprintf("%s.c%d.rps", key, c), Label: fmt.Sprintf("%s, %s: req/s", label, connLabel(c)), Unit: "req/s", Kind: report.Rate, Values: map[string]float64{}}
		p99 := report.Row{Key: fmt.Sprintf("%s.c%d.p99", key, c), Label: fmt.Sprintf("%s, %s: p99", label, connLabel(c)), Unit: "us", Kind: report.Latency, Values: map[string]float64{}}
		res, err := wrkRounds(ctx, []load.Target{a, b}, c, e.plan.rounds, e.plan.dur)
		if err != nil {
			return nil, err
		}
		for i, col := range []string{cNow, cChange} {
			e.logf("%-16s %-32s %4d conns: %8.0f req/s p99 %s", col, label, c, res[i].RPS, res[i].P99)
			rps.Values[col], p99.Values[col] = res[i].RPS, us(res[i].P99)
		}
		rows = append(rows, rps, p99)
	}
	return rows, nil
}

// tryBigBuffers compares, for 1 MiB responses, httputil.ReverseProxy with
// the bridge's transport and its 32 KiB copy buffers against the same
// proxy with 256 KiB buffers (proxy.New's buffer size is not settable from
// outside the package, so this is the isolated A/B).
func (e *env) tryBigBuffers(ctx context.Context, px *proxies) error {
	big, _, err := e.startRProxy(px.backend, 256<<10)
	if err != nil {
		return err
	}
	if err := proc.WaitPort(ctx, big, 10*time.Second); err != nil {
		return err
	}
	a := load.Target{URL: px.base[pBare] + "1m"}
	b := load.Target{URL: "http://" + big + px.path + "1m"}
	rows, err := e.abRows(ctx, "ba.buffer.1m", "256 KiB copy buffer: 1 MiB", a, b, []int{1, 32})
	if err != nil {
		return err
	}
	e.beforeAfter(rows...)
	return nil
}

// runRProxy is the "rproxy" subcommand: a bare httputil.ReverseProxy with
// proxy.DefaultTransport() and copy buffers of the given size.
func runRProxy(ctx context.Context, addr, backend string, buf int) error {
	u, err := url.Parse(backend)
	if err != nil {
		return err
	}
	pool := &sync.Pool{New: func() any { return make([]byte, buf) }}
	rp := &httputil.ReverseProxy{
		Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		Transport:  proxy.DefaultTransport(),
		BufferPool: bytesPool{pool},
	}
	srv := &http.Server{Addr: addr, Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type bytesPool struct{ p *sync.Pool }

func (b bytesPool) Get() []byte  { return b.p.Get().([]byte) }
func (b bytesPool) Put(x []byte) { b.p.Put(x) }

func joinLines(lines []string) string { return strings.Join(lines, "\n") }
