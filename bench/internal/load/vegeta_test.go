package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestInterleaved: a path that takes 5 ms shows it in its figures and
// not in the fast path's, in both loops; the open loop keeps to its
// rate; a path that answers 400 counts errors.
func TestInterleaved(t *testing.T) {
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
		{Name: "fast", URL: fast.URL + "/a", Header: http.Header{"X-Test": {"yes"}}},
		{Name: "slow", URL: slow.URL},
		{Name: "no header", URL: fast.URL + "/b"},
	}
	for _, rate := range []float64{0, 200} {
		st, err := Interleaved(context.Background(), targets, 4, rate, 500*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		f, s, m := st[0], st[1], st[2]
		if f.Errors != 0 || s.Errors != 0 || f.Requests == 0 || s.Requests == 0 {
			t.Fatalf("rate %v: unexpected errors or no requests: %+v", rate, st)
		}
		if m.Errors != m.Requests || !m.Bad() {
			t.Errorf("rate %v: the 400 path: %+v, want all errors", rate, m)
		}
		if s.P50 < 5*time.Millisecond || f.P50 >= s.P50 {
			t.Errorf("rate %v: fast p50 %v, slow p50 %v", rate, f.P50, s.P50)
		}
		if rate > 0 && (f.Requests < 80 || f.Requests > 120) {
			t.Errorf("rate %v for 0.5 s: %d requests to the fast path, want about 100", rate, f.Requests)
		}
	}
}
