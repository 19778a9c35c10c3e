// Package gcfloor lets the heap grow to a floor before the garbage
// collector runs. A proxy's live heap is a few MiB while it allocates a
// few KiB per request, so with Go's default goal (twice the live heap) it
// collects tens of times a second under load, and the requests that meet a
// collection make the latency's tail. With a floor the goal is the larger
// of twice the live heap and the floor: a busy service collects about once
// a second, and a large live heap is collected as it would be by default.
package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

const liveMetric = "/gc/heap/live:bytes"

// maxPercent bounds the GOGC value set for a tiny live heap.
const maxPercent = 5000

// Keep sets, after every collection, the collector's goal to the larger
// of twice the live heap and floor bytes. It does nothing when GOGC is set
// in the environment (the operator's choice wins) or floor is 0. Call it
// once, early in main.
func Keep(floor uint64) {
	if floor == 0 || os.Getenv("GOGC") != "" {
		return
	}
	t := &tuner{floor: floor, sample: []metrics.Sample{{Name: liveMetric}}}
	t.adjust()
	t.arm()
}

type tuner struct {
	floor   uint64
	sample  []metrics.Sample
	percent atomic.Int64
}

// sentinel is allocated to be collected: its finalizer runs once after
// each collection that finds it unreachable. It is larger than the tiny
// allocator's 16 bytes so that it is freed on its own.
type sentinel struct{ _ [32]byte }

func (t *tuner) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		t.adjust()
		t.arm()
	})
}

// adjust sets GOGC for the live heap the last collection left.
func (t *tuner) adjust() {
	metrics.Read(t.sample)
	var live uint64
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		live = t.sample[0].Value.Uint64()
	}
	p := Percent(live, t.floor)
	if t.percent.Swap(int64(p)) != int64(p) {
		debug.SetGCPercent(p)
	}
}

// Percent is the GOGC value whose goal is the larger of twice live and
// floor: 100 when twice live is already above the floor.
func Percent(live, floor uint64) int {
	if live == 0 {
		return maxPercent
	}
	if floor <= 2*live {
		return 100
	}
	// goal = live * (1 + p/100)  =>  p = (floor/live - 1) * 100
	p := (floor - live) * 100 / live
	// round down to a multiple of 50 so small changes of the live heap do
	// not reset the collector's pacing after every cycle
	p -= p % 50
	return int(min(max(p, 100), maxPercent))
}
