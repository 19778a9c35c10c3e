package serve

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/tunnel"
)

// benchBridge runs a benchmark bridge with n tunnel notebooks and returns
// its URL and user token.
func benchBridge(t *testing.T, n int, secret string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	r, w := io.Pipe()
	go func() {
		done <- RunBridge(ctx, BridgeOptions{Dir: dir, Listen: "127.0.0.1:0", TokenFile: filepath.Join(dir, "token"),
			Tunnels: n, TunnelSecret: secret, Out: w})
		w.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("bridge: %v", err)
		}
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatal("the bridge did not start")
	}
	go io.Copy(io.Discard, r)
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok {
		t.Fatalf("the bridge printed %q", line)
	}
	tok, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + addr, string(tok)
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestTunnelsThroughTheBridge opens two tasks' tunnels to a benchmark
// bridge, as the suite's tunnel path does, and fetches the backend
// through each task's route.
func TestTunnelsThroughTheBridge(t *testing.T) {
	be := httptest.NewServer(Backend())
	defer be.Close()
	url, token := benchBridge(t, 2, "s3cret")

	r, w := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunTunnelJob(ctx, TunnelJobOptions{Bridge: url, Secret: "s3cret", Backend: strings.TrimPrefix(be.URL, "http://"), N: 2,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Out: w})
		w.Close()
	}()
	if line, err := bufio.NewReader(r).ReadString('\n'); line != Ready+"2\n" {
		cancel()
		t.Fatalf("tunnel-job printed %q (%v); it returned %v", line, err, <-done)
	}
	for i := range 2 {
		code, body := get(t, url+"/proxy/"+TunnelTaskID(i)+"/1k", token)
		if code != http.StatusOK || len(body) != Small {
			t.Fatalf("task %d: HTTP %d, %d bytes: %.200s", i, code, len(body), body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestWrongSecretRefused checks that the benchmark bridge's tunnel route
// is the real one: a wrong secret is refused for good.
func TestWrongSecretRefused(t *testing.T) {
	url, _ := benchBridge(t, 1, "right")
	err := RunTunnelJob(context.Background(), TunnelJobOptions{Bridge: url, Secret: "wrong", Backend: "127.0.0.1:1", N: 1,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var re *tunnel.RefusedError
	if !errors.As(err, &re) || re.Status != http.StatusForbidden {
		t.Fatalf("err = %v, want a 403 refusal", err)
	}
}
