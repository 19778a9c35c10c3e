package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/det-slurm/bridge/api"
)

// TestRouteDial: a route with Dial reaches its server only through Dial
// (the target's host is never resolved), keeps its connections alive,
// and an *UnreachableError from Dial is answered 502 with its reason.
func TestRouteDial(t *testing.T) {
	f := newFixture(t)
	var host atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host.Store(r.Host)
		io.WriteString(w, "through dial "+r.Header.Get("Authorization"))
	}))
	t.Cleanup(up.Close)
	var dials atomic.Int32
	placeholder, _ := url.Parse("http://tunnel.invalid")
	dial := func(ctx context.Context) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, "tcp", up.Listener.Addr().String())
	}
	f.table.Set("nb1", Route{Target: placeholder, Dial: dial, Token: "t", Owner: "alice", State: api.StateRunning})
	alice := map[string]string{"X-User": "alice"}
	for range 3 {
		if resp, body := f.do(t, "/proxy/nb1/x", alice); resp.StatusCode != 200 || body != "through dial token t" {
			t.Fatalf("through Dial: %d %q", resp.StatusCode, body)
		}
	}
	if dials.Load() != 1 || host.Load() != "tunnel.invalid" {
		t.Errorf("%d dials for 3 requests (want 1, kept alive); Host %v", dials.Load(), host.Load())
	}
	// A new version of the route (same placeholder) dials with its own
	// Dial from the next new connection on.
	f.table.Set("nb1", Route{Target: placeholder, Token: "t", Owner: "alice", State: api.StateRunning,
		Dial: func(context.Context) (net.Conn, error) {
			return nil, &UnreachableError{Reason: "unreachable since 10:42:03: tunnel lost: the job closed the connection"}
		}})
	f.table.Set("nb2", Route{Target: placeholder, Token: "t", Owner: "alice", State: api.StateRunning,
		Dial: func(context.Context) (net.Conn, error) {
			return nil, &UnreachableError{Reason: "unreachable since 10:42:03: tunnel lost: the job closed the connection"}
		}})
	resp, body := f.do(t, "/proxy/nb2/x", alice)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "notebook nb2 is not reachable: unreachable since 10:42:03: tunnel lost") {
		t.Fatalf("unreachable: %d %q", resp.StatusCode, body)
	}
}
