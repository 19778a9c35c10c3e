package proxy

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
)

// idleMemory opens n websockets to wsURL (each says one message and gets
// its echo, then idles) and returns the heap and the stacks they hold,
// per websocket, as the whole process sees it.
func idleMemory(tb testing.TB, n int, wsURL string) (heap, stack float64) {
	tb.Helper()
	inUse := func() (uint64, uint64) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse, ms.StackInuse
	}
	h0, s0 := inUse()
	d := websocket.Dialer{ReadBufferSize: 512, WriteBufferSize: 512}
	conns := make([]*websocket.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, resp, err := d.Dial(wsURL, http.Header{"X-User": {"alice"}})
		if err != nil {
			tb.Fatalf("websocket %d to %s: %v %v", i, wsURL, err, resp)
		}
		conns = append(conns, c)
		if err := c.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 5000))); err != nil {
			tb.Fatal(err)
		}
		if _, _, err := c.ReadMessage(); err != nil {
			tb.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	h1, s1 := inUse()
	return float64(int64(h1)-int64(h0)) / float64(n), float64(int64(s1)-int64(s0)) / float64(n)
}

// BenchmarkIdleWebsocketMemory reports what the proxy holds per idle
// websocket: the process's heap (heap-bytes/ws) and goroutine stacks
// (stack-bytes/ws) with n idle websockets through the proxy, less the
// same websockets straight to the server. Each has said one 5000-byte
// message first, so its buffers have been used.
func BenchmarkIdleWebsocketMemory(b *testing.B) {
	const n = 500
	up := websocket.Upgrader{ReadBufferSize: 512, WriteBufferSize: 512, CheckOrigin: func(*http.Request) bool { return true }}
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil || c.WriteMessage(mt, msg) != nil {
				return
			}
		}
	})
	server := httptest.NewServer(echo)
	defer server.Close()
	f := newFixture(b)
	u, _ := url.Parse(server.URL)
	f.table.Set("nb1", Route{Target: u, Token: "0123456789abcdef", Owner: "alice", State: api.StateRunning})
	for range b.N {
		dh, ds := idleMemory(b, n, "ws"+strings.TrimPrefix(server.URL, "http")+"/proxy/nb1/api/kernels/k/channels")
		ph, ps := idleMemory(b, n, "ws"+strings.TrimPrefix(f.srv.URL, "http")+"/proxy/nb1/api/kernels/k/channels")
		b.ReportMetric(ph-dh, "heap-bytes/ws")
		b.ReportMetric(ps-ds, "stack-bytes/ws")
	}
}
