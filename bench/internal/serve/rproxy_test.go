package serve

import (
	"context"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/bench/internal/load"
)

// TestProxyRowsLocally runs, briefly, what the proxy rows measure through
// the bare ReverseProxy in front of the backend, without Slurm: the
// interleaved latency (vegeta), the websocket echo, stream and idle
// connections, and wrk when it is installed.
func TestProxyRowsLocally(t *testing.T) {
	be := httptest.NewServer(Backend())
	defer be.Close()
	h, err := ReverseProxy(be.URL, 32<<10)
	if err != nil {
		t.Fatal(err)
	}
	rp := httptest.NewServer(h)
	defer rp.Close()
	ctx := context.Background()
	ts := []load.Target{{Name: "direct", URL: be.URL + "/x/1k"}, {Name: "ReverseProxy", URL: rp.URL + "/x/1k"}}
	res, err := load.Interleaved(ctx, ts, 2, 100, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Bad() || r.P50 <= 0 || r.P99 < r.P50 {
			t.Errorf("%s: %+v", ts[i].Name, r)
		}
	}
	ws := "ws" + strings.TrimPrefix(rp.URL, "http") + "/x/ws"
	if r, err := load.Echo(ws, nil, 5, 50); err != nil || r.P50 <= 0 {
		t.Errorf("echo: %+v, %v", r, err)
	}
	if mbs, err := load.Throughput(ws, nil, 1<<20, 4); err != nil || mbs <= 0 {
		t.Errorf("1 MiB messages: %v MB/s, %v", mbs, err)
	}
	idle, err := load.OpenIdle(ws, nil, 20)
	if err != nil {
		t.Fatal(err)
	}
	idle.Close()
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("no wrk here")
	}
	r, err := load.Wrk(ctx, rp.URL+"/x/1m", 4, time.Second, nil)
	if err != nil || r.Bad() || r.RPS <= 0 {
		t.Errorf("wrk: %+v, %v", r, err)
	}
}
