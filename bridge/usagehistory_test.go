package bridge

import (
	"context"
	"math"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/det-slurm/bridge/bridge/store"
)

func TestPercentile(t *testing.T) {
	for _, c := range []struct {
		in       []float64
		p50, p95 float64
	}{
		{[]float64{7}, 7, 7},
		{[]float64{4, 1, 3, 2}, 2.5, 3.85},
		{[]float64{10, 0}, 5, 9.5},
		{[]float64{5, 5, 5}, 5, 5},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 1000}, 10.5, 68.05},
	} {
		in := slices.Clone(c.in)
		p50, p95 := waitPercentiles(in)
		if p50 == nil || p95 == nil || math.Abs(*p50-c.p50) > 1e-9 || math.Abs(*p95-c.p95) > 1e-9 {
			t.Errorf("%v: p50 %v p95 %v, want %v %v", c.in, p50, p95, c.p50, c.p95)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("waitPercentiles reordered its input: %v", in)
		}
	}
	if p50, p95 := waitPercentiles(nil); p50 != nil || p95 != nil {
		t.Errorf("no waits: %v %v, want nil", p50, p95)
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("the percentile of nothing is a number")
	}
	if got := percentile([]float64{1, 2, 3}, 100); got != 3 {
		t.Errorf("p100 of 1 2 3 = %v", got)
	}
}

// usageAt reads the usage history of the hour around at, by pool.
func usageAt(t *testing.T, h *harness, at time.Time) map[string][]store.UsageRow {
	t.Helper()
	rows, err := h.srv.store.Usage(context.Background(), at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]store.UsageRow{}
	for _, r := range rows {
		out[r.Pool] = append(out[r.Pool], r)
	}
	return out
}

// TestUsageMinuteAlignment: a sample at any second of a minute, in any
// time zone, is the row of that minute's start in Unix time.
func TestUsageMinuteAlignment(t *testing.T) {
	h := newHarness(t)
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)
	now := time.Date(2025, 6, 1, 18, 4, 56, 789_000_000, zone)
	h.srv.writeUsage(context.Background(), now)
	want := time.Date(2025, 6, 1, 12, 34, 0, 0, time.UTC)
	for pool, rows := range usageAt(t, h, now) {
		if len(rows) != 1 || !rows[0].Time.Equal(want) || rows[0].Time.Unix()%60 != 0 {
			t.Errorf("pool %s: %+v, want one row at %s", pool, rows, want)
		}
	}
}

// TestUsageSampler: the sampler writes a row for every configured pool,
// with the GPUs of running tasks, the queue waits of the jobs that
// started and the cancellations by reason and pool since the last
// sample; a second sample in the same minute updates the minute's rows.
func TestUsageSampler(t *testing.T) {
	h := newHarness(t)
	h.numberedJobs()
	ctx := context.Background()
	admin := h.adminClient()
	gpuCfg := map[string]any{"resources": map[string]any{"slots": 2, "resource_pool": "gpu"}}
	kept := h.start(gpuCfg)
	h.running(kept.ID, "r1-gpu01-ib")
	byUser := h.start(gpuCfg)
	h.running(byUser.ID, "r1-gpu01-ib")
	h.do("POST", "/api/v1/notebooks/"+byUser.ID+"/kill", nil, nil, http.StatusOK)
	byAdmin := h.start(map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu"}})
	admin.do("POST", "/api/v1/notebooks/"+byAdmin.ID+"/kill", nil, nil, http.StatusOK)

	now := time.Now()
	h.srv.writeUsage(ctx, now)
	got := usageAt(t, h, now)
	for _, p := range h.srv.cfg.ResourcePools {
		if len(got[p.Name]) != 1 {
			t.Errorf("pool %s: %d rows, want 1", p.Name, len(got[p.Name]))
		}
	}
	if len(got) != len(h.srv.cfg.ResourcePools) {
		t.Errorf("rows for pools %v, want the configured ones", got)
	}
	gpu, cpu := got["gpu"][0], got["cpu"][0]
	if gpu.GPUsAllocated != 2 || gpu.GPUsIdle > gpu.GPUsAllocated {
		t.Errorf("gpu's GPUs: %d allocated, %d idle; want 2 allocated", gpu.GPUsAllocated, gpu.GPUsIdle)
	}
	if gpu.QueueWaitP50 == nil || gpu.QueueWaitP95 == nil || *gpu.QueueWaitP50 < 0 || *gpu.QueueWaitP95 < *gpu.QueueWaitP50 {
		t.Errorf("gpu's waits: %v %v, want those of the two jobs that started", gpu.QueueWaitP50, gpu.QueueWaitP95)
	}
	if gpu.CancelUser != 1 || gpu.CancelAdmin != 0 || gpu.CancelIdle != 0 {
		t.Errorf("gpu's cancellations: %+v, want 1 by its user", gpu)
	}
	if cpu.GPUsAllocated != 0 || cpu.QueueWaitP50 != nil || cpu.CancelAdmin != 1 || cpu.CancelUser != 0 {
		t.Errorf("cpu: %+v, want no GPUs, no waits, 1 cancellation by an admin", cpu)
	}

	// The events were written once: a later minute has none.
	h.srv.writeUsage(ctx, now.Add(time.Minute))
	got = usageAt(t, h, now)
	if rows := got["gpu"]; len(rows) != 2 || rows[1].QueueWaitP50 != nil || rows[1].CancelUser != 0 || rows[1].GPUsAllocated != 2 {
		t.Errorf("gpu's next minute: %+v", rows)
	}

	// A second sample in a minute (a restart) adds to its row.
	h.srv.jobCancelled("gpu", cancelIdle)
	h.srv.writeUsage(ctx, now.Add(time.Minute))
	got = usageAt(t, h, now)
	if rows := got["gpu"]; len(rows) != 2 || rows[1].CancelIdle != 1 {
		t.Errorf("gpu after a second sample of a minute: %+v", rows)
	}
}

// TestUsageIdleCancellation: the reaper's cancellation counts as idle, in
// the task's pool.
func TestUsageIdleCancellation(t *testing.T) {
	h := newHarness(t)
	nb := h.start(map[string]any{"idle_timeout": "10m", "resources": map[string]any{"slots": 1, "resource_pool": "gpu"}})
	h.running(nb.ID, "r1-gpu01-ib")
	h.reapIdle(nb.ID, time.Now().Add(11*time.Minute))
	ev := h.srv.usage.take()
	if ev["gpu"] == nil || ev["gpu"].idle != 1 || ev["gpu"].user != 0 || len(ev["gpu"].waits) != 1 {
		t.Fatalf("events after an idle cancellation: %+v", ev["gpu"])
	}
}

// TestUsagePrune deletes the history older than 30 days.
func TestUsagePrune(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	now := time.Now()
	old, recent := now.Add(-usageKeep-time.Hour), now.Add(-usageKeep+time.Hour)
	if err := h.srv.store.AddUsage(ctx, []store.UsageRow{{Time: old, Pool: "gpu"}, {Time: recent, Pool: "gpu"}}); err != nil {
		t.Fatal(err)
	}
	h.srv.pruneUsage(ctx)
	rows, err := h.srv.store.Usage(ctx, old.Add(-time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || !rows[0].Time.Equal(recent.Truncate(time.Minute)) {
		t.Errorf("after pruning: %+v, want only the row of %s", rows, recent.Truncate(time.Minute))
	}
}
