package tunnel

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/jobspec"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeBridge accepts tunnels with secret on Path and attaches them to reg
// with the given session timings.
func fakeBridge(t testing.TB, reg *Registry, secret string, ka, wt time.Duration) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/tasks/{id}/tunnel", func(w http.ResponseWriter, r *http.Request) {
		if !IsRequest(r) {
			http.Error(w, "not a tunnel", http.StatusBadRequest)
			return
		}
		if r.Header.Get(jobspec.SecretHeader) != secret {
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(api.NewError(http.StatusForbidden, "bad task secret"))
			return
		}
		acceptInto(t, w, r, reg, ka, wt)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// acceptInto accepts a tunnel and attaches it to reg. As the bridge does
// once a task has a route, the task's dials wait for its tunnel, which
// the job may see open (101) a moment before Attach.
func acceptInto(t testing.TB, w http.ResponseWriter, r *http.Request, reg *Registry, ka, wt time.Duration) {
	reg.Track(r.PathValue("id"), "the job has not opened its tunnel")
	s, err := Accept(w, r, ka, wt, quiet)
	if err != nil {
		t.Error(err)
		return
	}
	reg.Attach(r.PathValue("id"), s)
}

// echo serves a stream by sending back what it reads.
func echo(c net.Conn) {
	defer c.Close()
	_, _ = io.Copy(c, c)
}

// roundTrip dials task id through reg and checks an echo.
func roundTrip(ctx context.Context, reg *Registry, id string) error {
	c, err := reg.Dial(ctx, id)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		return err
	}
	buf := make([]byte, 4)
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if string(buf) != "ping" {
		return errors.New("echo " + string(buf))
	}
	return nil
}

// runDialer runs d until the test ends; up is closed when the first
// tunnel is open, and Run's result goes to the returned channel.
func runDialer(t *testing.T, d *Dialer, serve func(net.Conn)) (up chan struct{}, done chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	up, done = make(chan struct{}), make(chan error, 1)
	var once sync.Once
	go func() { done <- d.Run(ctx, serve, func() { once.Do(func() { close(up) }) }, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return up, done
}

func waitUp(t *testing.T, up chan struct{}) {
	t.Helper()
	select {
	case <-up:
	case <-time.After(5 * time.Second):
		t.Fatal("the tunnel did not open")
	}
}

// waitAttached waits until the fake bridge has attached task id's tunnel
// (just after the job saw it open) and returns its session.
func waitAttached(t *testing.T, reg *Registry, id string) *Session {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		reg.mu.Lock()
		var s *Session
		if sl := reg.m[id]; sl != nil {
			s = sl.s
		}
		reg.mu.Unlock()
		if s != nil {
			return s
		}
	}
	t.Fatalf("the bridge never attached the tunnel of %s", id)
	return nil
}

func TestTunnelCarriesStreams(t *testing.T) {
	reg := NewRegistry(time.Minute, 2*time.Second, quiet)
	srv := fakeBridge(t, reg, "s3cret", 0, 0)
	up, _ := runDialer(t, &Dialer{URL: srv.URL, TaskID: "t1", Secret: "s3cret", Log: quiet}, echo)
	waitUp(t, up)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := roundTrip(context.Background(), reg, "t1"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if d := reg.Status("t1"); d != nil {
		t.Fatalf("status of a connected task: %+v", d)
	}
}

func TestTunnelWrongSecretIsFinal(t *testing.T) {
	reg := NewRegistry(time.Minute, time.Second, quiet)
	srv := fakeBridge(t, reg, "s3cret", 0, 0)
	_, done := runDialer(t, &Dialer{URL: srv.URL, TaskID: "t1", Secret: "wrong", Log: quiet}, echo)
	select {
	case err := <-done:
		var re *RefusedError
		if !errors.As(err, &re) || re.Status != http.StatusForbidden || re.Message != "bad task secret" {
			t.Fatalf("Run: %v", err)
		}
		done <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("a refused tunnel is dialled again and again")
	}
}

// TestTunnelReconnects: when the bridge's end closes, the job dials again
// and the task answers through the new tunnel within about a second.
func TestTunnelReconnects(t *testing.T) {
	reg := NewRegistry(time.Minute, 3*time.Second, quiet)
	srv := fakeBridge(t, reg, "s3cret", 0, 0)
	up, _ := runDialer(t, &Dialer{URL: srv.URL, TaskID: "t1", Secret: "s3cret", Log: quiet}, echo)
	waitUp(t, up)
	for i := range 3 {
		waitAttached(t, reg, "t1").Close()
		start := time.Now()
		if err := roundTrip(context.Background(), reg, "t1"); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("round %d: back after %s", i, d)
		}
	}
}

// TestTunnelSecondReplacesFirst: a second tunnel with the same secret
// takes the task's place; the first is closed.
func TestTunnelSecondReplacesFirst(t *testing.T) {
	reg := NewRegistry(time.Minute, time.Second, quiet)
	srv := fakeBridge(t, reg, "s3cret", 0, 0)
	d := &Dialer{URL: srv.URL, TaskID: "t1", Secret: "s3cret", Log: quiet}
	first, err := d.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	deadline := time.Now().Add(2 * time.Second)
	for !reg.Connected("t1") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	second, err := d.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	go func() {
		for {
			c, err := second.Accept()
			if err != nil {
				return
			}
			go echo(c)
		}
	}()
	select {
	case <-first.CloseChan():
	case <-time.After(2 * time.Second):
		t.Fatal("the first tunnel is still open")
	}
	if err := roundTrip(context.Background(), reg, "t1"); err != nil {
		t.Fatal(err)
	}
}

// freezer forwards TCP to target; freeze makes the connections open at
// the time stop passing bytes without closing anything: a peer gone
// silent. Later connections pass.
type freezer struct {
	l      net.Listener
	mu     sync.Mutex
	frozen map[net.Conn]bool
	conns  []net.Conn
}

func newFreezer(t *testing.T, target string) *freezer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{l: l, frozen: map[net.Conn]bool{}}
	t.Cleanup(func() {
		l.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, c, u)
			f.mu.Unlock()
			go f.pipe(c, u)
			go f.pipe(u, c)
		}
	}()
	return f
}

func (f *freezer) pipe(dst, src net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := src.Read(buf)
		f.mu.Lock()
		frozen := f.frozen[src]
		f.mu.Unlock()
		if frozen {
			return // swallow it all, close nothing
		}
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *freezer) freeze() {
	f.mu.Lock()
	for _, c := range f.conns {
		f.frozen[c] = true
	}
	f.mu.Unlock()
}

// TestTunnelKeepaliveFindsDeadPeer: with short keepalives, a connection
// that silently stops carrying bytes is found dead on both ends, and the
// job's next dial (through a live path) brings the task back.
func TestTunnelKeepaliveFindsDeadPeer(t *testing.T) {
	const ka, wt = 100 * time.Millisecond, 200 * time.Millisecond
	reg := NewRegistry(time.Minute, 3*time.Second, quiet)
	srv := fakeBridge(t, reg, "s3cret", ka, wt)
	fz := newFreezer(t, srv.Listener.Addr().String())
	d := &Dialer{URL: "http://" + fz.l.Addr().String(), TaskID: "t1", Secret: "s3cret", KeepAlive: ka, WriteTimeout: wt, Log: quiet}
	up, _ := runDialer(t, d, echo)
	waitUp(t, up)
	first := waitAttached(t, reg, "t1")
	fz.freeze()
	select {
	case <-first.CloseChan():
	case <-time.After(time.Second):
		t.Fatal("the bridge did not find the dead tunnel")
	}
	if r := first.Reason(); r != "no answer from the job within the keepalive timeout" {
		t.Fatalf("reason %q", r)
	}
	// The job's end finds it too and dials again.
	if err := roundTrip(context.Background(), reg, "t1"); err != nil {
		t.Fatalf("after the dead connection: %v", err)
	}
}

// TestUnreachableAfterGrace: a tracked task without a tunnel is awaited
// within the grace period, and unreachable after it, with when and why;
// Dial then fails at once.
func TestUnreachableAfterGrace(t *testing.T) {
	reg := NewRegistry(150*time.Millisecond, 50*time.Millisecond, quiet)
	reg.Track("t1", "the bridge restarted")
	d := reg.Status("t1")
	if d == nil || d.Unreachable || d.Reason != "the bridge restarted" {
		t.Fatalf("within the grace period: %+v", d)
	}
	if _, err := reg.Dial(context.Background(), "t1"); !errors.As(err, &d) || d.Unreachable {
		t.Fatalf("dial within the grace period: %v", err)
	}
	time.Sleep(160 * time.Millisecond)
	d = reg.Status("t1")
	if d == nil || !d.Unreachable || time.Since(d.Since) < 150*time.Millisecond {
		t.Fatalf("after the grace period: %+v", d)
	}
	start := time.Now()
	if _, err := reg.Dial(context.Background(), "t1"); !errors.As(err, &d) || !d.Unreachable || time.Since(start) > 20*time.Millisecond {
		t.Fatalf("dial after the grace period: %v after %s", err, time.Since(start))
	}
	reg.Forget("t1")
	if d := reg.Status("t1"); d != nil {
		t.Fatalf("a forgotten task: %+v", d)
	}
}

// TestTunnelEndsOnFinalRefusalAfterOpen: once the bridge refuses the
// tunnel for good (the task is over), the job stops dialling, even though
// a tunnel was open before.
func TestTunnelEndsOnFinalRefusalAfterOpen(t *testing.T) {
	reg := NewRegistry(time.Minute, time.Second, quiet)
	var ended atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/tasks/{id}/tunnel", func(w http.ResponseWriter, r *http.Request) {
		if ended.Load() {
			w.WriteHeader(http.StatusConflict)
			_ = json.NewEncoder(w).Encode(api.NewError(http.StatusConflict, "task is TERMINATED"))
			return
		}
		acceptInto(t, w, r, reg, 0, 0)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	up, done := runDialer(t, &Dialer{URL: srv.URL, TaskID: "t1", Secret: "s", Log: quiet}, echo)
	waitUp(t, up)
	ended.Store(true)
	waitAttached(t, reg, "t1").Close()
	select {
	case err := <-done:
		var re *RefusedError
		if !errors.As(err, &re) || re.Status != http.StatusConflict {
			t.Fatalf("Run: %v", err)
		}
		done <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("the job dials on after the bridge refused its tunnel for good")
	}
}
