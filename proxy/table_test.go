package proxy

import (
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
)

func TestTableSetGetDelete(t *testing.T) {
	tb := NewTable()
	if _, ok := tb.Get("a"); ok {
		t.Fatal("empty table returned a route")
	}
	u, _ := url.Parse("http://127.0.0.1:1234")
	tb.Set("a", Route{Target: u, Token: "tok", Owner: "alice", State: api.StateRunning})
	r, ok := tb.Get("a")
	if !ok || r.Owner != "alice" || r.Target.String() != "http://127.0.0.1:1234" {
		t.Fatalf("Get = %+v, %v", r, ok)
	}
	// The table keeps its own copy of the URL.
	u.Host = "changed"
	r.Target.Host = "changed too"
	if r2, _ := tb.Get("a"); r2.Target.Host != "127.0.0.1:1234" {
		t.Fatalf("stored target was aliased: %v", r2.Target)
	}
	if at, ok := tb.LastActivity("a"); !ok || !at.IsZero() {
		t.Fatalf("LastActivity before any touch = %v, %v", at, ok)
	}
	tb.Delete("a")
	if _, ok := tb.Get("a"); ok {
		t.Fatal("deleted route still present")
	}
	if _, ok := tb.LastActivity("a"); ok {
		t.Fatal("LastActivity of deleted route reported ok")
	}
	tb.Touch("a") // unknown ids are ignored
}

func TestTableSetKeepsActivity(t *testing.T) {
	tb := NewTable()
	tb.Set("a", Route{State: api.StateStarting})
	before := time.Now()
	tb.Touch("a")
	t1, _ := tb.LastActivity("a")
	if t1.Before(before.Add(-time.Second)) || t1.IsZero() {
		t.Fatalf("Touch did not record now: %v", t1)
	}
	u, _ := url.Parse("http://127.0.0.1:1")
	tb.Set("a", Route{Target: u, State: api.StateRunning})
	if t2, _ := tb.LastActivity("a"); !t2.Equal(t1) {
		t.Fatalf("Set reset activity: %v != %v", t2, t1)
	}
	time.Sleep(2 * time.Millisecond)
	tb.Touch("a")
	if t3, _ := tb.LastActivity("a"); !t3.After(t1) {
		t.Fatalf("second Touch did not advance: %v <= %v", t3, t1)
	}
}

// TestTableConcurrent: readers never see a route torn between two
// versions nor the table's own URL, activity never goes back, and Set keeps
// activity under concurrent use (run under -race, as make unit does, it
// also finds unsynchronised access).
func TestTableConcurrent(t *testing.T) {
	tb := NewTable()
	const ids, workers, rounds = 10, 8, 500
	route := func(id string, v int) Route {
		u, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", 1000+v))
		return Route{Target: u, Owner: id, State: api.StateRunning, Reason: fmt.Sprint(v)}
	}
	for i := 0; i < ids; i++ {
		id := fmt.Sprintf("t%d", i)
		tb.Set(id, route(id, 0))
	}
	var wg sync.WaitGroup
	errs := make(chan string, workers*rounds)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := map[string]time.Time{}
			for i := 0; i < rounds; i++ {
				id := fmt.Sprintf("t%d", i%ids)
				switch (w + i) % 4 {
				case 0:
					tb.Set(id, route(id, w*rounds+i))
				case 1:
					r, ok := tb.Get(id)
					if !ok {
						errs <- id + ": gone"
						continue
					}
					if r.Owner != id || r.Target == nil || r.Target.Port() != portOf(r.Reason) {
						errs <- fmt.Sprintf("%s: torn route %+v", id, r)
					}
					r.Target.Host = "mangled" // the caller's copy, never the table's
				case 2:
					tb.Touch(id)
				default:
					at, ok := tb.LastActivity(id)
					if !ok {
						errs <- id + ": no activity record"
					} else if at.Before(seen[id]) {
						errs <- fmt.Sprintf("%s: activity went back from %v to %v", id, seen[id], at)
					}
					seen[id] = at
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for i := 0; i < ids; i++ {
		id := fmt.Sprintf("t%d", i)
		r, _ := tb.Get(id)
		if r.Target.Host == "mangled" {
			t.Fatalf("%s: a reader changed the table's URL", id)
		}
		if at, _ := tb.LastActivity(id); at.IsZero() {
			t.Errorf("%s: Set lost the activity Touch recorded", id)
		}
	}
}

// portOf is the port of the route whose Reason is version v.
func portOf(v string) string {
	n, err := strconv.Atoi(v)
	if err != nil {
		return "bad version " + v
	}
	return strconv.Itoa(1000 + n)
}
