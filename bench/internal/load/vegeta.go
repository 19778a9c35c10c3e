package load

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Target is one path of an interleaved measurement.
type Target struct {
	Name   string
	URL    string
	Header http.Header
}

// warmUp is how long an interleaved measurement runs before its results
// count: the connections open and each server settles.
const warmUp = 300 * time.Millisecond

// Interleaved loads every target at once with GETs for dur, their
// requests interleaved (vegeta's round-robin over the targets), so that a
// pause of the machine falls on every path alike and the differences
// between paths are the paths' own. It returns each target's figures in
// the order of targets.
//
// With rate 0 it is a closed loop: conns workers each send the next
// target its request and wait for the answer. With rate > 0 it is an open
// loop: each target gets rate requests per second in all (vegeta's
// constant pacer), over at most conns connections per target, so that the
// figures are those of a path at that load rather than at saturation.
// This process's garbage collector is off while it measures.
func Interleaved(ctx context.Context, targets []Target, conns int, rate float64, dur time.Duration) ([]Result, error) {
	if len(targets) == 0 || conns < 1 || rate < 0 {
		return nil, fmt.Errorf("interleaved load: need targets, conns ≥ 1 and rate ≥ 0")
	}
	vts := make([]vegeta.Target, len(targets))
	index := map[string]int{}
	for i, t := range targets {
		vts[i] = vegeta.Target{Method: http.MethodGet, URL: t.URL, Header: t.Header}
		index[t.URL] = i
	}
	opts := []func(*vegeta.Attacker){vegeta.Connections(conns), vegeta.MaxConnections(conns), vegeta.Redirects(vegeta.NoFollow)}
	pacer := vegeta.ConstantPacer{} // zero: as fast as the workers go
	if rate == 0 {
		opts = append(opts, vegeta.Workers(uint64(conns)), vegeta.MaxWorkers(uint64(conns)))
	} else {
		pacer = vegeta.ConstantPacer{Freq: int(rate * float64(len(targets))), Per: time.Second}
		opts = append(opts, vegeta.Workers(uint64(conns*len(targets))))
	}
	atk := vegeta.NewAttacker(opts...)
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()

	// The client's own collections would pause it mid-request and show in
	// every path's tail: none while it measures.
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	metrics := make([]vegeta.Metrics, len(targets))
	counted := time.Now().Add(warmUp)
	for res := range atk.Attack(vegeta.NewStaticTargeter(vts...), pacer, dur+warmUp, "bench") {
		if i, ok := index[res.URL]; ok && !res.Timestamp.Before(counted) {
			metrics[i].Add(res)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]Result, len(targets))
	for i := range metrics {
		m := &metrics[i]
		m.Close()
		n := int(m.Requests)
		out[i] = Result{RPS: float64(n) / dur.Seconds(), P50: m.Latencies.P50, P99: m.Latencies.P99, Requests: n,
			Errors: n - int(m.Success*float64(n)+0.5)}
	}
	return out, nil
}
