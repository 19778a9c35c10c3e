package bridge

import (
	"sync"
	"time"
)

// maxOnceKeys bounds the keys a onceEvery holds.
const maxOnceKeys = 10_000

// onceEvery says whether a key was not seen within the last window, so
// that what happens over and over is recorded once per window. It is kept
// in memory and holds at most maxOnceKeys keys: when full it forgets the
// expired ones and, if that is not enough, all of them; it may then record
// too often, never too seldom.
type onceEvery struct {
	window time.Duration
	mu     sync.Mutex
	seen   map[string]time.Time
	// now is the clock; nil means time.Now.
	now func() time.Time
}

func newOnceEvery(window time.Duration) *onceEvery {
	return &onceEvery{window: window, seen: map[string]time.Time{}}
}

// first reports whether key was not seen within the window, and if so
// notes it now.
func (o *onceEvery) first(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	if o.now != nil {
		now = o.now()
	}
	if at, ok := o.seen[key]; ok && now.Sub(at) < o.window {
		return false
	}
	if len(o.seen) >= maxOnceKeys {
		o.forget(now)
	}
	o.seen[key] = now
	return true
}

// forget makes room: the keys past the window go, then, if none did,
// every key. o.mu is held.
func (o *onceEvery) forget(now time.Time) {
	for k, at := range o.seen {
		if now.Sub(at) >= o.window {
			delete(o.seen, k)
		}
	}
	if len(o.seen) >= maxOnceKeys {
		clear(o.seen)
	}
}

// size is the number of keys held.
func (o *onceEvery) size() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.seen)
}
