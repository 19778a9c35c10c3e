package store

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// TestAuditAddList: entries come back oldest first, in UTC, filtered by
// time, actor and action (exact, or a prefix with "*"), a page at a time.
func TestAuditAddList(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	t0 := time.Date(2030, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	entries := []Audit{
		{Time: t0.Add(2 * time.Minute), Actor: "alice", Action: "login", Source: "10.0.0.7", Detail: "password"},
		{Time: t0, Actor: "alice", Action: "login.failed", Source: "10.0.0.7", Detail: "invalid credentials"},
		{Time: t0.Add(5 * time.Minute), Actor: "admin", Action: "proxy.admin_access", Target: "task-1", Source: "10.0.0.8", Detail: "alice"},
		{Time: t0.Add(9 * time.Minute), Actor: "", Action: "task.cancel", Target: "task-1", Detail: "notebook, pool gpu: idle"},
		{Time: t0.Add(10 * time.Minute), Actor: "bob", Action: "login_x", Detail: "a name with LIKE's wildcard"},
	}
	for _, a := range entries {
		if err := s.AddAudit(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	list := func(q AuditQuery) []string {
		t.Helper()
		got, err := s.ListAudit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.CountAudit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if q.Offset == 0 && q.Limit == 0 && n != len(got) {
			t.Errorf("%+v: counted %d, listed %d", q, n, len(got))
		}
		out := []string{}
		for _, a := range got {
			out = append(out, a.Actor+"/"+a.Action)
		}
		return out
	}
	all, err := s.ListAudit(ctx, AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	first := all[0]
	if want := (Audit{Time: t0.UTC(), Actor: "alice", Action: "login.failed", Source: "10.0.0.7", Detail: "invalid credentials"}); !reflect.DeepEqual(first, want) || first.Time.Location() != time.UTC {
		t.Errorf("first entry %+v, want %+v", first, want)
	}
	for _, c := range []struct {
		q    AuditQuery
		want []string
	}{
		{AuditQuery{}, []string{"alice/login.failed", "alice/login", "admin/proxy.admin_access", "/task.cancel", "bob/login_x"}},
		{AuditQuery{Since: t0.Add(2 * time.Minute)}, []string{"alice/login", "admin/proxy.admin_access", "/task.cancel", "bob/login_x"}},
		{AuditQuery{Since: t0.Add(time.Minute), Until: t0.Add(9 * time.Minute)}, []string{"alice/login", "admin/proxy.admin_access"}},
		{AuditQuery{Actor: "alice"}, []string{"alice/login.failed", "alice/login"}},
		{AuditQuery{Action: "login"}, []string{"alice/login"}},
		{AuditQuery{Action: "login.*"}, []string{"alice/login.failed"}},
		{AuditQuery{Action: "login*"}, []string{"alice/login.failed", "alice/login", "bob/login_x"}},
		{AuditQuery{Action: "login_*"}, []string{"bob/login_x"}},
		{AuditQuery{Actor: "alice", Action: "login"}, []string{"alice/login"}},
		{AuditQuery{Actor: "nobody"}, []string{}},
		{AuditQuery{Offset: 1, Limit: 2}, []string{"alice/login", "admin/proxy.admin_access"}},
		{AuditQuery{Offset: 4, Limit: 2}, []string{"bob/login_x"}},
	} {
		if got := list(c.q); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v: got %v, want %v", c.q, got, c.want)
		}
	}
	if n, _ := s.CountAudit(ctx, AuditQuery{Action: "login*", Limit: 1}); n != 3 {
		t.Errorf("a count ignores the limit: %d", n)
	}
}

// TestAuditPrune: entries older than the cut go, the rest stay; an entry
// without a time is stamped now.
func TestAuditPrune(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	now := time.Now()
	for _, a := range []Audit{
		{Time: now.AddDate(-2, 0, 0), Action: "login"},
		{Time: now.AddDate(0, 0, -366), Action: "login.failed"},
		{Time: now.AddDate(0, 0, -364), Action: "task.start"},
		{Action: "task.kill"},
	} {
		if err := s.AddAudit(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneAudit(ctx, now.AddDate(0, 0, -365))
	if err != nil || n != 2 {
		t.Fatalf("pruned %d: %v", n, err)
	}
	left, _ := s.ListAudit(ctx, AuditQuery{})
	if len(left) != 2 || left[0].Action != "task.start" || left[1].Action != "task.kill" {
		t.Fatalf("left %+v", left)
	}
	if d := time.Since(left[1].Time); d < 0 || d > time.Minute {
		t.Errorf("an entry without a time is stamped %s", left[1].Time)
	}
}
