package wrk

import (
	"os"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	data, err := os.ReadFile("testdata/wrk.txt")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(string(data))
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
	r, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.P50 != 812*time.Microsecond || r.P99 != 2250*time.Microsecond || r.Errors != 7 || r.Requests != 3000 || r.RPS != 2999.5 {
		t.Fatalf("got %+v", r)
	}
	if _, err := Parse("Requests/sec: 1\n"); err == nil {
		t.Fatal("no latency distribution: want an error")
	}
}
