// Package latency measures request latency through several paths at once,
// their requests interleaved, so that a pause of the machine (another
// process, the hypervisor, a timer) falls on every path alike and the
// differences between paths are the paths' own.
package latency

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// Target is one path to measure.
type Target struct {
	Name   string
	URL    string
	Header http.Header
}

// Stats are one target's figures.
type Stats struct {
	Requests int
	Errors   int
	P50, P99 time.Duration
}

// Run sends GETs of every target over conns connections per target for
// dur and returns each target's figures, in the order of targets.
//
// With rate 0 it is a closed loop: each of conns workers sends one request
// to each target in turn, waiting for every answer. With rate > 0 it is an
// open loop: each target gets rate requests per second in all, spread
// evenly over its conns connections and staggered between targets, so
// the figures are those of a path at that load rather than at saturation.
// Latency runs from sending a request to reading the last byte of the
// answer. The caller's garbage collector is off while it measures.
func Run(ctx context.Context, targets []Target, conns int, rate float64, dur time.Duration) ([]Stats, error) {
	if len(targets) == 0 || conns < 1 || rate < 0 {
		return nil, fmt.Errorf("latency: need targets, conns ≥ 1 and rate ≥ 0")
	}
	clients := make([]*http.Client, len(targets))
	for i := range targets {
		clients[i] = &http.Client{Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			DisableCompression:  true,
		}, Timeout: 30 * time.Second}
		defer clients[i].CloseIdleConnections()
	}
	rec := newRecorder(len(targets))
	// Warm-up: open every connection and let each server settle.
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, t := range targets {
				_, _ = get(ctx, clients[i], t)
			}
		}()
	}
	wg.Wait()

	// The client's own garbage collections would pause its goroutines
	// mid-request and show as every path's tail: none during the
	// measurement (a 10 s run allocates a few hundred MB).
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	start := time.Now()
	end := start.Add(dur)
	if rate == 0 {
		for w := 0; w < conns; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := w; time.Now().Before(end) && ctx.Err() == nil; k++ {
					for j := range targets {
						i := (k + j) % len(targets) // each worker starts at another target
						d, err := get(ctx, clients[i], targets[i])
						rec.add(i, d, err)
					}
				}
			}()
		}
	} else {
		every := time.Duration(float64(conns) / rate * float64(time.Second))
		slot := every / time.Duration(conns*len(targets))
		for i := range targets {
			for w := 0; w < conns; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					next := start.Add(time.Duration(w*len(targets)+i) * slot)
					t := time.NewTimer(time.Until(next))
					defer t.Stop()
					for next.Before(end) {
						select {
						case <-ctx.Done():
							return
						case <-t.C:
						}
						d, err := get(ctx, clients[i], targets[i])
						rec.add(i, d, err)
						next = next.Add(every)
						if now := time.Now(); next.Before(now) {
							next = now // behind: go on at once rather than in a burst
						}
						t.Reset(time.Until(next))
					}
				}()
			}
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return rec.stats(), nil
}

// Rounds is Run done n times for dur/n each; each target's p50 and p99 are
// the medians of its rounds' (requests and errors are summed), so that a
// burst of other work on the machine spoils one round, not a figure.
func Rounds(ctx context.Context, targets []Target, conns int, rate float64, dur time.Duration, n int) ([]Stats, error) {
	n = max(n, 1)
	all := make([][]Stats, len(targets))
	for r := 0; r < n; r++ {
		st, err := Run(ctx, targets, conns, rate, dur/time.Duration(n))
		if err != nil {
			return nil, err
		}
		for i, s := range st {
			all[i] = append(all[i], s)
		}
	}
	out := make([]Stats, len(targets))
	for i, rs := range all {
		out[i] = Median(rs)
	}
	return out, nil
}

// Median combines rounds: the median p50 and p99 (each on its own), the
// sums of requests and errors.
func Median(rs []Stats) Stats {
	var out Stats
	var p50, p99 []time.Duration
	for _, r := range rs {
		out.Requests += r.Requests
		out.Errors += r.Errors
		p50 = append(p50, r.P50)
		p99 = append(p99, r.P99)
	}
	slices.Sort(p50)
	slices.Sort(p99)
	if len(rs) > 0 {
		out.P50, out.P99 = p50[len(p50)/2], p99[len(p99)/2]
	}
	return out
}

// get sends one request and reads the answer to the end.
func get(ctx context.Context, c *http.Client, t Target) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return 0, err
	}
	for k, v := range t.Header {
		req.Header[k] = v
	}
	t0 := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: HTTP %d", t.Name, resp.StatusCode)
	}
	return d, err
}

// recorder collects the latencies of each target.
type recorder struct {
	mu   sync.Mutex
	lat  [][]time.Duration
	errs []int
}

func newRecorder(n int) *recorder {
	return &recorder{lat: make([][]time.Duration, n), errs: make([]int, n)}
}

func (r *recorder) add(i int, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errs[i]++
		return
	}
	r.lat[i] = append(r.lat[i], d)
}

func (r *recorder) stats() []Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Stats, len(r.lat))
	for i, l := range r.lat {
		slices.Sort(l)
		out[i] = Stats{Requests: len(l) + r.errs[i], Errors: r.errs[i], P50: Percentile(l, 50), P99: Percentile(l, 99)}
	}
	return out
}

// Percentile returns the p-th percentile (nearest rank) of sorted; 0 for
// an empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(float64(len(sorted))*p/100)) - 1
	return sorted[max(0, min(k, len(sorted)-1))]
}
