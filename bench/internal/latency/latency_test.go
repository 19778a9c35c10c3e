package latency

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50}, {99, 99}, {100, 100}, {1, 1}, {0, 1}} {
		if got := Percentile(d, c.p); got != c.want {
			t.Errorf("Percentile(1..100, %v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := Percentile(nil, 99); got != 0 {
		t.Errorf("Percentile(nil) = %v", got)
	}
	if got := Percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("Percentile([7], 99) = %v", got)
	}
}

// TestRun: a path that takes 5 ms shows it in its figures and not in the
// fast path's, in both loops; the open loop keeps to its rate; a path
// that answers 404 counts errors.
func TestRun(t *testing.T) {
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Test") != "yes" {
			http.Error(w, "no header", http.StatusBadRequest)
		}
	}))
	defer fast.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
	}))
	defer slow.Close()
	targets := []Target{
		{Name: "fast", URL: fast.URL, Header: http.Header{"X-Test": {"yes"}}},
		{Name: "slow", URL: slow.URL},
		{Name: "no header", URL: fast.URL}, // 400
	}
	for _, rate := range []float64{0, 200} {
		st, err := Run(context.Background(), targets, 4, rate, 500*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		f, s, m := st[0], st[1], st[2]
		if f.Errors != 0 || s.Errors != 0 || f.Requests == 0 || s.Requests == 0 {
			t.Fatalf("rate %v: unexpected errors or no requests: %+v", rate, st)
		}
		if m.Errors != m.Requests || m.Requests == 0 {
			t.Errorf("rate %v: the 400 path: %+v, want all errors", rate, m)
		}
		if s.P50 < 5*time.Millisecond || f.P50 >= s.P50 {
			t.Errorf("rate %v: fast p50 %v, slow p50 %v", rate, f.P50, s.P50)
		}
		if rate > 0 && (f.Requests < 80 || f.Requests > 110) {
			t.Errorf("rate %v for 0.5 s: %d requests to the fast path, want about 100", rate, f.Requests)
		}
	}
}

func TestMedian(t *testing.T) {
	ms := time.Millisecond
	got := Median([]Stats{
		{Requests: 10, Errors: 1, P50: 1 * ms, P99: 9 * ms},
		{Requests: 10, P50: 3 * ms, P99: 2 * ms},
		{Requests: 10, Errors: 2, P50: 2 * ms, P99: 50 * ms},
	})
	want := Stats{Requests: 30, Errors: 3, P50: 2 * ms, P99: 9 * ms}
	if got != want {
		t.Errorf("Median = %+v, want %+v", got, want)
	}
	if (Median(nil) != Stats{}) {
		t.Errorf("Median(nil) = %+v", Median(nil))
	}
}
