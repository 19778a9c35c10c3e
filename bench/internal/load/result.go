// Package load generates the benchmarks' load and reads its figures: wrk
// for the rate rows, vegeta for the interleaved latency rows, and
// websockets (echo, 1 MiB stream, idle connections) through gorilla's
// client.
package load

import (
	"slices"
	"time"
)

// Result is what one measurement of one path gave.
type Result struct {
	RPS      float64
	P50, P99 time.Duration
	Requests int
	Errors   int // non-2xx/3xx answers plus socket errors
}

// Bad reports whether a result is not to be trusted: no request answered,
// or more than 1% errors.
func (r Result) Bad() bool { return r.Requests == 0 || float64(r.Errors) > 0.01*float64(r.Requests) }

// Rounds calls measure n times (at least once); each call measures every
// path and returns their results in the same order. For each path it
// returns the median of its rounds (req/s, p50 and p99 each on its own;
// requests and errors summed), so that a burst of other work on the
// machine spoils one round, not a figure.
func Rounds(n int, measure func() ([]Result, error)) ([]Result, error) {
	var all [][]Result
	for r := 0; r < max(n, 1); r++ {
		res, err := measure()
		if err != nil {
			return nil, err
		}
		for i, x := range res {
			if i == len(all) {
				all = append(all, nil)
			}
			all[i] = append(all[i], x)
		}
	}
	out := make([]Result, len(all))
	for i, rs := range all {
		out[i] = Median(rs)
	}
	return out, nil
}

// Median combines rounds of one path: the median of each of req/s, p50
// and p99, and the sums of requests and errors.
func Median(rs []Result) Result {
	var out Result
	if len(rs) == 0 {
		return out
	}
	rps, p50, p99 := make([]float64, len(rs)), make([]time.Duration, len(rs)), make([]time.Duration, len(rs))
	for i, r := range rs {
		rps[i], p50[i], p99[i] = r.RPS, r.P50, r.P99
		out.Requests += r.Requests
		out.Errors += r.Errors
	}
	slices.Sort(rps)
	slices.Sort(p50)
	slices.Sort(p99)
	m := len(rs) / 2
	out.RPS, out.P50, out.P99 = rps[m], p50[m], p99[m]
	return out
}
