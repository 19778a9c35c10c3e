package suite

import (
	"fmt"

	"github.com/det-slurm/bridge/bench/internal/report"
)

// figs reads figures for one finding; ok turns false at the first figure
// that was not measured.
type figs struct {
	d  map[string]float64
	ok bool
}

func (f *figs) v(k report.Key, col string) float64 {
	x, ok := f.d[k.Cell(col)]
	f.ok = f.ok && ok
	return x
}

// findings are lines computed from this run's figures that say where the
// targets' figures come from; a line whose figures were not all measured
// is left out.
func findings(d map[string]float64) []string {
	var out []string
	add := func(build func(f *figs) string) {
		f := &figs{d: d, ok: true}
		if s := build(f); f.ok {
			out = append(out, s)
		}
	}
	rps1k, rps1m := atConns(kStatic1k, 32, sRPS), atConns(kStatic1m, 32, sRPS)
	add(func(f *figs) string {
		return fmt.Sprintf("bridge ÷ bare ReverseProxy, 1 KiB at 32 conns: %.2f× req/s; bare ReverseProxy ÷ nginx: %.2f× (the bridge's target vs nginx: ≥ 0.5×)",
			f.v(rps1k, pBridge)/f.v(rps1k, pBare), f.v(rps1k, pBare)/f.v(rps1k, pNginx))
	})
	add(func(f *figs) string {
		return fmt.Sprintf("CPU per 1 KiB request at 32 conns, each path's own process: bridge %.0f µs, bare ReverseProxy %.0f µs, nginx %.0f µs, "+
			"CHP %.0f µs, tunnel-mode bridge %.0f µs + job's end %.0f µs; the backend alone %.0f µs",
			f.v(kCPU, pBridge), f.v(kCPU, pBare), f.v(kCPU, pNginx), f.v(kCPU, pCHP), f.v(kCPU, pTunnel), f.v(kJobCPU, pTunnel), f.v(kCPU, pDirect))
	})
	add(func(f *figs) string {
		dir := f.v(rps1m, pDirect)
		return fmt.Sprintf("1 MiB at 32 conns, ÷ direct: bridge %.2f×, nginx %.2f×, CHP %.2f× req/s (the bridge's target: ≥ 0.9×)",
			f.v(rps1m, pBridge)/dir, f.v(rps1m, pNginx)/dir, f.v(rps1m, pCHP)/dir)
	})
	add(func(f *figs) string {
		r := func(c int) float64 { k := atConns(kBuffer, c, sRPS); return f.v(k, cChange) / f.v(k, cNow) }
		return fmt.Sprintf("256 KiB ÷ 32 KiB copy buffers, bare ReverseProxy, 1 MiB: %.2f× req/s at 1 conn, %.2f× at 32 conns", r(1), r(32))
	})
	add(func(f *figs) string {
		direct := f.v(kCPU, pBridge) + f.v(kCPU, pDirect)
		tunnel := f.v(kCPU, pTunnel) + f.v(kJobCPU, pTunnel) + f.v(kCPU, pDirect)
		return fmt.Sprintf("tunnel ÷ direct mode, 1 KiB at 32 conns, from the summed CPU per request of the processes sharing the machine "+
			"(bridge + backend ÷ tunnel bridge + job's end + backend): %.2f×; measured %.2f× req/s (target ≥ 0.8×)",
			direct/tunnel, f.v(atConns(kStatic1k, 32, sRPS), pTunnel)/f.v(atConns(kStatic1k, 32, sRPS), pBridge))
	})
	add(func(f *figs) string {
		return fmt.Sprintf("tunnel ÷ direct mode, 1 MiB at 32 conns: %.2f× req/s", f.v(rps1m, pTunnel)/f.v(rps1m, pBridge))
	})
	for _, p := range goPaths {
		add(func(f *figs) string {
			return fmt.Sprintf("per idle websocket, %s: %.2f KiB of RSS (target ≤ 16 KiB); in its runtime %.1f goroutines, %.2f KiB of stacks, %.2f KiB of heap",
				p, f.v(kIdleManyPer, p), f.v(kIdleGoroutines, p), f.v(kIdleStack, p), f.v(kIdleHeap, p))
		})
	}
	add(func(f *figs) string {
		return fmt.Sprintf("per idle tunnel: %.2f KiB of RSS (target ≤ 64 KiB); in the bridge's runtime %.1f goroutines, %.2f KiB of stacks, %.2f KiB of heap",
			f.v(kTunPer, pTunnel), f.v(kTunGoroutines, pTunnel), f.v(kTunStack, pTunnel), f.v(kTunHeap, pTunnel))
	})
	return out
}
