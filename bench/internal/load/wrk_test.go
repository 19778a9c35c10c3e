package load

import (
	"os"
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	data, err := os.ReadFile("testdata/wrk.txt")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseWrk(string(data))
	if err != nil {
		t.Fatal(err)
	}
	if r.P50 <= 0 || r.P99 < r.P50 || r.RPS <= 0 || r.Requests <= 0 {
		t.Fatalf("implausible result %+v", r)
	}
}

func TestParseUnitsAndErrors(t *testing.T) {
	out := `  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    1.50ms
     99%    2.25ms
  3000 requests in 1.00s, 3.20MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   2999.50
`
	r, err := ParseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.P50 != 812*time.Microsecond || r.P99 != 2250*time.Microsecond || r.Errors != 7 || r.Requests != 3000 || r.RPS != 2999.5 {
		t.Fatalf("got %+v", r)
	}
	if r, err := ParseWrk("  0 requests in 1.02s, 0.00B read\nRequests/sec:      0.00\n"); err != nil || r.Requests != 0 {
		t.Fatalf("no request finished: got %+v, %v", r, err)
	}
	if _, err := ParseWrk("  5 requests in 1.02s, 0.00B read\nRequests/sec: 5\n"); err == nil {
		t.Fatal("no latency distribution: want an error")
	}
}

func TestRoundsTakesMedians(t *testing.T) {
	rounds := [][]Result{
		{{RPS: 100, P50: 3 * time.Millisecond, P99: 9 * time.Millisecond, Requests: 100, Errors: 1}, {RPS: 1}},
		{{RPS: 300, P50: 1 * time.Millisecond, P99: 4 * time.Millisecond, Requests: 300}, {RPS: 2}},
		{{RPS: 200, P50: 2 * time.Millisecond, P99: 5 * time.Millisecond, Requests: 200, Errors: 2}, {RPS: 3}},
	}
	k := 0
	got, err := Rounds(3, func() ([]Result, error) { k++; return rounds[k-1], nil })
	if err != nil || len(got) != 2 {
		t.Fatalf("got %+v, %v", got, err)
	}
	if m := got[0]; m.RPS != 200 || m.P50 != 2*time.Millisecond || m.P99 != 5*time.Millisecond || m.Requests != 600 || m.Errors != 3 {
		t.Fatalf("got %+v", m)
	}
	if got[1].RPS != 2 {
		t.Fatalf("second path: %+v", got[1])
	}
}
