package proxy

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"
)

func TestTableSetGetDelete(t *testing.T) {
	tb := NewTable()
	if _, ok := tb.Get("a"); ok {
		t.Fatal("empty table returned a route")
	}
	u, _ := url.Parse("http://127.0.0.1:1234")
	tb.Set("a", Route{Target: u, Token: "tok", Owner: "alice", State: "RUNNING"})
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
	tb.Set("a", Route{State: "STARTING"})
	before := time.Now()
	tb.Touch("a")
	t1, _ := tb.LastActivity("a")
	if t1.Before(before.Add(-time.Second)) || t1.IsZero() {
		t.Fatalf("Touch did not record now: %v", t1)
	}
	u, _ := url.Parse("http://127.0.0.1:1")
	tb.Set("a", Route{Target: u, State: "RUNNING"})
	if t2, _ := tb.LastActivity("a"); !t2.Equal(t1) {
		t.Fatalf("Set reset activity: %v != %v", t2, t1)
	}
	time.Sleep(2 * time.Millisecond)
	tb.Touch("a")
	if t3, _ := tb.LastActivity("a"); !t3.After(t1) {
		t.Fatalf("second Touch did not advance: %v <= %v", t3, t1)
	}
}

func TestTableConcurrent(t *testing.T) {
	tb := NewTable()
	u, _ := url.Parse("http://127.0.0.1:1")
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				id := fmt.Sprintf("t%d", i%10)
				switch (w + i) % 5 {
				case 0:
					tb.Set(id, Route{Target: u, Owner: "alice", State: "RUNNING"})
				case 1:
					if r, ok := tb.Get(id); ok && r.Target != nil {
						_ = r.Target.Host
					}
				case 2, 3:
					tb.Touch(id)
				default:
					tb.LastActivity(id)
					if i%50 == 0 {
						tb.Delete(id)
					}
				}
			}
		}()
	}
	wg.Wait()
}
