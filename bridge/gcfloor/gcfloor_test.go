package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, floor uint64
		want        int
	}{
		{0, 32 * mib, maxPercent},
		{1 * mib, 32 * mib, 3100},
		{4 * mib, 32 * mib, 700},
		{3 * mib, 32 * mib, 950}, // 966 rounded down
		{16 * mib, 32 * mib, 100},
		{40 * mib, 32 * mib, 100},
		{1024, 32 * mib, maxPercent},
	} {
		if got := Percent(c.live, c.floor); got != c.want {
			t.Errorf("Percent(%d, %d) = %d, want %d", c.live, c.floor, got, c.want)
		}
	}
}

// TestKeep: after a collection the runtime's GOGC is the one Percent gives
// for a floor far above this test's live heap.
func TestKeep(t *testing.T) {
	t.Setenv("GOGC", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	Keep(1 << 30)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // let the finalizer run
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		if s[0].Value.Uint64() > 100 {
			return
		}
	}
	t.Fatal("GOGC not raised after collections")
}
