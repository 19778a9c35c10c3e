package launcher

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/tunnel"
)

// tunnelBridge is a bridge that takes the task's tunnel (with the right
// secret) and records the callbacks.
type tunnelBridge struct {
	reg   *tunnel.Registry
	ready chan jobspec.ReadyRequest
	mu    sync.Mutex
	calls []string
	last  *tunnel.Session
}

func newTunnelBridge(t *testing.T, secret string) (*tunnelBridge, *httptest.Server) {
	b := &tunnelBridge{reg: tunnel.NewRegistry(time.Minute, 3*time.Second, quiet), ready: make(chan jobspec.ReadyRequest, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/tasks/{id}/tunnel", func(w http.ResponseWriter, r *http.Request) {
		if !tunnel.IsRequest(r) || r.Header.Get(jobspec.SecretHeader) != secret {
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(api.NewError(http.StatusForbidden, "bad task secret"))
			return
		}
		s, err := tunnel.Accept(w, r, 0, 0, quiet)
		if err != nil {
			t.Error(err)
			return
		}
		b.mu.Lock()
		b.last = s
		b.mu.Unlock()
		b.reg.Attach(r.PathValue("id"), s)
	})
	mux.HandleFunc("POST /api/v1/tasks/{id}/{what}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.calls = append(b.calls, r.PathValue("what"))
		b.mu.Unlock()
		if r.PathValue("what") == "ready" {
			var req jobspec.ReadyRequest
			_ = json.Unmarshal(body, &req)
			// The launcher sends ready once the bridge answered 101; the
			// handler above registers the session just after writing it.
			deadline := time.Now().Add(2 * time.Second)
			for !b.reg.Connected(r.PathValue("id")) && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if !b.reg.Connected(r.PathValue("id")) {
				t.Error("ready before the tunnel is open")
			}
			b.ready <- req
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return b, srv
}

// client reaches task id through the bridge's end of its tunnel.
func (b *tunnelBridge) client(id string) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return b.reg.Dial(ctx, id) },
	}}
}

func waitReadyCallback(t *testing.T, b *tunnelBridge, code chan int) jobspec.ReadyRequest {
	t.Helper()
	select {
	case req := <-b.ready:
		return req
	case c := <-code:
		t.Fatalf("the launcher ended with %d before it reported ready", c)
	case <-time.After(20 * time.Second):
		t.Fatal("no ready callback")
	}
	return jobspec.ReadyRequest{}
}

// TestRunServesThroughTunnel: in tunnel mode the launcher holds no port:
// it opens the tunnel once Jupyter answers, reports ready with port 0,
// and every connection the bridge opens through the tunnel reaches
// Jupyter's socket; when the bridge's end goes, the launcher dials again
// and the notebook answers within 3 s.
func TestRunServesThroughTunnel(t *testing.T) {
	fakeJupyterPath(t, "serve")
	b, srv := newTunnelBridge(t, "s")
	spec := testSpec(t, srv.URL)
	spec.ProxyMode = jobspec.ProxyModeTunnel
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() { code <- Run(ctx, spec, Options{ReadyTimeout: 20 * time.Second, Logger: quiet}) }()
	if req := waitReadyCallback(t, b, code); req.Port != 0 {
		t.Fatalf("ready names port %d in tunnel mode", req.Port)
	}
	c := b.client("task-1")
	get := func() (int, string, error) {
		r, _ := http.NewRequest("GET", "http://tunnel/proxy/task-1/hello", nil)
		r.Header.Set("Authorization", "token tok")
		resp, err := c.Do(r)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), nil
	}
	if st, body, err := get(); err != nil || st != http.StatusOK || body != "hello from $(touch never)" {
		t.Fatalf("through the tunnel: %d %q %v", st, body, err)
	}
	b.mu.Lock()
	first := b.last
	b.mu.Unlock()
	first.Close()
	c.CloseIdleConnections()
	start := time.Now()
	if st, _, err := get(); err != nil || st != http.StatusOK {
		t.Fatalf("after the tunnel was cut: %d %v", st, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("back after %s", d)
	}
	cancel()
	select {
	case c := <-code:
		if c != 143 {
			t.Errorf("exit code %d, want 143", c)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the launcher did not stop")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if got := strings.Join(b.calls, ","); !strings.HasPrefix(got, "ready") || !strings.HasSuffix(got, "exit") {
		t.Errorf("callbacks %s", got)
	}
}

// TestRunTunnelRefused: a bridge that refuses the tunnel for good ends
// the task, with the bridge's reason, without a ready callback.
func TestRunTunnelRefused(t *testing.T) {
	fakeJupyterPath(t, "serve")
	b, srv := newTunnelBridge(t, "other")
	spec := testSpec(t, srv.URL)
	spec.ProxyMode = jobspec.ProxyModeTunnel
	code := Run(context.Background(), spec, Options{ReadyTimeout: 20 * time.Second, Logger: quiet})
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var rec jobspec.ExitRecord
	data, _ := os.ReadFile(filepath.Join(spec.JobDir, "exit.json"))
	_ = json.Unmarshal(data, &rec)
	if !strings.HasPrefix(rec.Message, "tunnel to the bridge: the bridge refused the tunnel") || !strings.Contains(rec.Message, "bad task secret") {
		t.Errorf("exit message %q", rec.Message)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if strings.Contains(strings.Join(b.calls, ","), "ready") {
		t.Errorf("callbacks %v", b.calls)
	}
}

// TestShellThroughTunnel: a shell in tunnel mode is served on the
// tunnel's streams: the websocket gets the shell's output for what is
// typed, and its exit.
func TestShellThroughTunnel(t *testing.T) {
	b, srv := newTunnelBridge(t, "s")
	spec := testSpec(t, srv.URL)
	spec.Kind, spec.ProxyMode, spec.Env = jobspec.KindShell, jobspec.ProxyModeTunnel, nil
	code := make(chan int, 1)
	go func() {
		code <- Run(context.Background(), spec, Options{ReadyTimeout: 20 * time.Second, Logger: quiet})
	}()
	waitReadyCallback(t, b, code)
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return b.reg.Dial(ctx, "task-1") }}
	conn, _, err := d.Dial("ws://tunnel/proxy/task-1/shell", http.Header{"Authorization": {"token tok"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.WriteMessage(websocket.BinaryMessage, []byte("echo tun$((40+2))nel; exit 7\n"))
	var out strings.Builder
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		mt, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v; output so far %q", err, out.String())
		}
		if mt == websocket.BinaryMessage {
			out.Write(data)
			continue
		}
		var c jobspec.ShellControl
		if json.Unmarshal(data, &c) == nil && c.Type == jobspec.ShellExit {
			if c.Code != 7 || !strings.Contains(out.String(), "tun42nel") {
				t.Fatalf("exit %d, output %q", c.Code, out.String())
			}
			break
		}
	}
	conn.Close() // hang up, as clients do after the exit message
	select {
	case c := <-code:
		if c != 7 {
			t.Errorf("launcher exit %d", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the launcher did not end with the shell")
	}
}
