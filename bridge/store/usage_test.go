package store

import (
	"context"
	"testing"
	"time"
)

func ptr(f float64) *float64 { return &f }

// TestUsageMinutes: rows are written at the start of their minute, read
// back by range, by pool and then by time, with NULL waits as nil.
func TestUsageMinutes(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	rows := []UsageRow{
		{Time: base.Add(90 * time.Second), Pool: "gpu", GPUsAllocated: 4, GPUsIdle: 1, QueueWaitP50: ptr(3), QueueWaitP95: ptr(9.5), CancelUser: 1},
		{Time: base.Add(90 * time.Second), Pool: "cpu"},
		{Time: base.Add(30 * time.Second), Pool: "gpu", GPUsAllocated: 2, CancelIdle: 2, CancelAdmin: 1},
	}
	if err := s.AddUsage(ctx, rows); err != nil {
		t.Fatal(err)
	}
	got, err := s.Usage(ctx, base, base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d rows, want 3: %+v", len(got), got)
	}
	want := []struct {
		pool string
		at   time.Time
	}{{"cpu", base.Add(time.Minute)}, {"gpu", base}, {"gpu", base.Add(time.Minute)}}
	for i, w := range want {
		if got[i].Pool != w.pool || !got[i].Time.Equal(w.at) || got[i].Time.Unix()%60 != 0 {
			t.Errorf("row %d: %s at %s, want %s at %s", i, got[i].Pool, got[i].Time, w.pool, w.at)
		}
	}
	if r := got[0]; r.QueueWaitP50 != nil || r.QueueWaitP95 != nil {
		t.Errorf("a minute without starts has waits %v %v", r.QueueWaitP50, r.QueueWaitP95)
	}
	if r := got[2]; r.GPUsAllocated != 4 || r.GPUsIdle != 1 || r.QueueWaitP50 == nil || *r.QueueWaitP50 != 3 ||
		r.QueueWaitP95 == nil || *r.QueueWaitP95 != 9.5 || r.CancelUser != 1 {
		t.Errorf("gpu at 12:01: %+v", r)
	}
	if r := got[1]; r.GPUsAllocated != 2 || r.CancelIdle != 2 || r.CancelAdmin != 1 || r.CancelUser != 0 {
		t.Errorf("gpu at 12:00: %+v", r)
	}
	if got, _ := s.Usage(ctx, base.Add(time.Minute), base.Add(time.Minute)); len(got) != 2 {
		t.Errorf("the range of one minute: %d rows, want 2", len(got))
	}
}

// TestUsageNoDuplicateMinute: a second write of a minute and pool, as
// after a restart within the minute, updates its row: the later GPUs,
// cancellations added, and the earlier waits kept when the later has none.
func TestUsageNoDuplicateMinute(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	at := time.Date(2025, 3, 1, 12, 5, 10, 0, time.UTC)
	first := UsageRow{Time: at, Pool: "gpu", GPUsAllocated: 3, GPUsIdle: 2, QueueWaitP50: ptr(5), QueueWaitP95: ptr(8), CancelIdle: 1, CancelUser: 2}
	second := UsageRow{Time: at.Add(40 * time.Second), Pool: "gpu", GPUsAllocated: 1, CancelIdle: 1, CancelAdmin: 1}
	for _, r := range []UsageRow{first, second} {
		if err := s.AddUsage(ctx, []UsageRow{r}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Usage(ctx, at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d rows for one minute, want 1: %+v", len(got), got)
	}
	r := got[0]
	if r.GPUsAllocated != 1 || r.GPUsIdle != 0 || r.CancelIdle != 2 || r.CancelUser != 2 || r.CancelAdmin != 1 ||
		r.QueueWaitP50 == nil || *r.QueueWaitP50 != 5 || r.QueueWaitP95 == nil || *r.QueueWaitP95 != 8 {
		t.Errorf("merged minute: %+v", r)
	}
	third := UsageRow{Time: at, Pool: "gpu", QueueWaitP50: ptr(1), QueueWaitP95: ptr(2)}
	if err := s.AddUsage(ctx, []UsageRow{third}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Usage(ctx, at.Add(-time.Hour), at.Add(time.Hour))
	if len(got) != 1 || *got[0].QueueWaitP50 != 1 || *got[0].QueueWaitP95 != 2 {
		t.Errorf("later waits: %+v", got)
	}
}

// TestPruneUsage deletes the minutes before the cutoff and keeps the rest.
func TestPruneUsage(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	now := time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)
	cutoff := now.AddDate(0, 0, -30)
	var rows []UsageRow
	for _, at := range []time.Time{cutoff.Add(-2 * time.Minute), cutoff.Add(-time.Minute), cutoff, now} {
		rows = append(rows, UsageRow{Time: at, Pool: "gpu"}, UsageRow{Time: at, Pool: "cpu"})
	}
	if err := s.AddUsage(ctx, rows); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneUsage(ctx, cutoff)
	if err != nil || n != 4 {
		t.Fatalf("pruned %d rows (%v), want 4", n, err)
	}
	got, _ := s.Usage(ctx, time.Unix(0, 0), now)
	if len(got) != 4 {
		t.Fatalf("%d rows kept, want 4", len(got))
	}
	for _, r := range got {
		if r.Time.Before(cutoff) {
			t.Errorf("a row before the cutoff was kept: %+v", r)
		}
	}
}
