package bridge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/slurm"
	"github.com/det-slurm/bridge/tunnel"
)

// syncBuffer is a log destination tests read while the bridge writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tunnelHarness is a bridge in tunnel mode served on a real loopback
// port, whose one notebook's job (on a node at 127.0.0.1) is running.
type tunnelHarness struct {
	*harness
	srv  *httptest.Server
	task *store.Task
	log  *syncBuffer
}

func newTunnelHarness(t *testing.T) *tunnelHarness {
	t.Helper()
	h := newHarnessWith(t, "proxy_mode: tunnel\n")
	logs := &syncBuffer{}
	h.srv.log = slog.New(slog.NewTextHandler(logs, nil))
	h.srv.tunnels.Log = h.srv.log
	h.useNodes([]slurm.Node{
		{Name: "r1-gpu01-ib", Partitions: []string{"gpu"}, Addr: "127.0.0.1", GPUs: 4},
		{Name: "r1-gpu02-ib", Partitions: []string{"gpu"}, Addr: "127.0.0.2", GPUs: 4},
	})
	nb := h.start(nil)
	task, err := h.srv.store.GetTask(context.Background(), nb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if task.ProxyMode != jobspec.ProxyModeTunnel {
		t.Fatalf("task stored in %q mode", task.ProxyMode)
	}
	h.slurm.jobs[task.JobID] = slurm.Job{ID: task.JobID, State: "RUNNING", Nodes: []string{"r1-gpu01-ib"}, NodeList: "r1-gpu01-ib", TimeLeft: -1}
	h.srv.reconcile(context.Background())
	srv := httptest.NewServer(h.h)
	t.Cleanup(srv.Close)
	return &tunnelHarness{harness: h, srv: srv, task: task, log: logs}
}

// fakeJupyter serves, on a Unix socket, what the tests ask of a notebook
// server: a page that shows the token it was sent, and a websocket echo.
func fakeJupyter(t *testing.T, base string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "j.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch strings.TrimPrefix(r.URL.Path, base) {
		case "hello":
			fmt.Fprintf(w, "hello, %s", r.Header.Get("Authorization"))
		case "api/kernels/k/channels":
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
		default:
			http.NotFound(w, r)
		}
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

// launch runs the job's end of the tunnel to fake Jupyter until the test
// ends (or stop is called), and reports ready once it is open.
func (th *tunnelHarness) launch(t *testing.T) (stop func()) {
	t.Helper()
	sock := fakeJupyter(t, "/proxy/"+th.task.ID+"/")
	ctx, cancel := context.WithCancel(context.Background())
	up := make(chan struct{})
	done := make(chan struct{})
	d := &tunnel.Dialer{URL: th.srv.URL, TaskID: th.task.ID, Secret: th.task.Secret,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	go func() {
		defer close(done)
		err := d.Run(ctx, func(c net.Conn) {
			defer c.Close()
			u, err := net.Dial("unix", sock)
			if err != nil {
				return
			}
			defer u.Close()
			go func() { _, _ = io.Copy(u, c); u.(*net.UnixConn).CloseWrite() }()
			_, _ = io.Copy(c, u)
		}, func() { close(up) }, 5*time.Second)
		if err != nil {
			t.Error(err)
		}
	}()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	select {
	case <-up:
	case <-time.After(5 * time.Second):
		t.Fatal("the tunnel did not open")
	}
	th.waitAttached(t)
	w := th.req("POST", "/api/v1/tasks/"+th.task.ID+"/ready", jobspec.ReadyRequest{Node: "r1-gpu01-ib"}, map[string]string{jobspec.SecretHeader: th.task.Secret})
	if w.Code != http.StatusNoContent {
		t.Fatalf("ready: %d %s", w.Code, w.Body)
	}
	return stop
}

// waitAttached waits until the bridge has attached the task's tunnel:
// the job sees it open (101) a moment before the bridge attaches it.
func (th *tunnelHarness) waitAttached(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !th.harness.srv.tunnels.Connected(th.task.ID); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the bridge never attached the task's tunnel")
		}
	}
}

// get asks the bridge's proxy for path of the notebook, as its owner.
func (th *tunnelHarness) get(t *testing.T, path string) (int, string) {
	t.Helper()
	r, _ := http.NewRequest("GET", th.srv.URL+"/proxy/"+th.task.ID+"/"+path, nil)
	r.Header.Set("Authorization", "Bearer "+th.token)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestTunnelProxies: a running notebook in tunnel mode is reached only
// through its job's tunnel: a page (with the notebook's token put in by
// the proxy) and a websocket echo, whose messages count as activity.
func TestTunnelProxies(t *testing.T) {
	th := newTunnelHarness(t)
	th.launch(t)
	if nb := th.harness.get(th.task.ID); nb.State != api.StateRunning || nb.Unreachable != nil {
		t.Fatalf("notebook %+v", nb)
	}
	if code, body := th.get(t, "hello"); code != http.StatusOK || body != "hello, token "+th.task.JupyterToken {
		t.Fatalf("page: %d %q", code, body)
	}
	ws := "ws" + strings.TrimPrefix(th.srv.URL, "http") + "/proxy/" + th.task.ID + "/api/kernels/k/channels"
	conn, resp, err := websocket.DefaultDialer.Dial(ws, http.Header{"Authorization": {"Bearer " + th.token}})
	if err != nil {
		t.Fatalf("websocket: %v %v", err, resp)
	}
	defer conn.Close()
	t0, _ := th.harness.srv.Routes().LastActivity(th.task.ID)
	time.Sleep(5 * time.Millisecond)
	for _, msg := range []string{"one", strings.Repeat("x", 200<<10), "three"} {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, got, err := conn.ReadMessage(); err != nil || string(got) != msg {
			t.Fatalf("echo of %d bytes: %d bytes, %v", len(msg), len(got), err)
		}
	}
	if t1, _ := th.harness.srv.Routes().LastActivity(th.task.ID); !t1.After(t0) {
		t.Errorf("websocket messages through the tunnel are not activity: %v -> %v", t0, t1)
	}
}

// rawTunnel asks for task id's tunnel from the local address from, with
// secret, and returns the bridge's status line.
func rawTunnel(t *testing.T, bridge, from, id, secret string) string {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", strings.TrimPrefix(bridge, "http://"))
	if err != nil {
		t.Fatalf("connect from %s: %v", from, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: bridge\r\nConnection: Upgrade\r\nUpgrade: %s\r\n%s: %s\r\n\r\n", tunnel.Path(id), tunnel.Protocol, jobspec.SecretHeader, secret)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	return strings.TrimSpace(line)
}

// TestTunnelRefusals: only the task's secret, from one of the task's own
// nodes, for a live task in tunnel mode, opens its tunnel; every refusal
// is logged with the task, the address and the reason.
func TestTunnelRefusals(t *testing.T) {
	th := newTunnelHarness(t)
	id := th.task.ID
	if got := rawTunnel(t, th.srv.URL, "127.0.0.1", id, "wrong"); !strings.HasPrefix(got, "HTTP/1.1 403") {
		t.Errorf("wrong secret: %s", got)
	}
	// 127.0.0.2 is r1-gpu02-ib, a node of the cluster but not the task's.
	if got := rawTunnel(t, th.srv.URL, "127.0.0.2", id, th.task.Secret); !strings.HasPrefix(got, "HTTP/1.1 403") {
		t.Errorf("right secret from another node: %s", got)
	}
	logs := th.log.String()
	for _, want := range []string{
		`msg="tunnel refused" task_id=` + id + ` remote=127.0.0.1:`,
		`reason="bad task secret"`,
		`remote=127.0.0.2:`,
		`reason="127.0.0.2 is not an address of job 101's nodes (r1-gpu01-ib)"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
	if th.harness.srv.tunnels.Connected(id) {
		t.Fatal("a refused tunnel is attached")
	}
	if got := rawTunnel(t, th.srv.URL, "127.0.0.1", id, th.task.Secret); !strings.HasPrefix(got, "HTTP/1.1 101") {
		t.Errorf("right secret from the task's node: %s", got)
	}
	// A direct-mode task opens no tunnel, whatever it sends.
	direct := *th.task
	direct.ID, direct.ProxyMode = "d1-direct", jobspec.ProxyModeDirect
	if err := th.harness.srv.store.InsertTask(context.Background(), &direct); err != nil {
		t.Fatal(err)
	}
	if got := rawTunnel(t, th.srv.URL, "127.0.0.1", direct.ID, direct.Secret); !strings.HasPrefix(got, "HTTP/1.1 409") {
		t.Errorf("a direct-mode task: %s", got)
	}
}

// TestTunnelSecondReplacesFirst: a second tunnel with the task's secret
// takes the place of the first, which is closed, and the replacement is
// logged.
func TestTunnelSecondReplacesFirst(t *testing.T) {
	th := newTunnelHarness(t)
	d := &tunnel.Dialer{URL: th.srv.URL, TaskID: th.task.ID, Secret: th.task.Secret}
	first, err := d.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	th.waitAttached(t)
	second, err := d.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	select {
	case <-first.CloseChan():
	case <-time.After(3 * time.Second):
		t.Fatal("the first tunnel is still open")
	}
	if !strings.Contains(th.log.String(), "a second tunnel for the task replaces the first") {
		t.Errorf("log:\n%s", th.log)
	}
}

// TestTunnelUnreachable: a running task whose tunnel has been gone past
// the grace period shows as unreachable, with since when and why, in the
// API, and the proxy answers 502 with that; it is not ended for it. Once
// its job dials again it is reachable again.
func TestTunnelUnreachable(t *testing.T) {
	th := newTunnelHarness(t)
	th.harness.srv.tunnels.Grace = 200 * time.Millisecond
	stop := th.launch(t)
	stop()
	time.Sleep(300 * time.Millisecond)
	nb := th.harness.get(th.task.ID)
	if nb.State != api.StateRunning || nb.Unreachable == nil || !strings.HasPrefix(nb.Unreachable.Reason, "tunnel lost: ") ||
		time.Since(nb.Unreachable.Since) < 200*time.Millisecond {
		t.Fatalf("notebook %+v, unreachable %+v", nb, nb.Unreachable)
	}
	var list api.GetNotebooksResponse
	th.do("GET", "/api/v1/notebooks", nil, &list, http.StatusOK)
	if len(list.Notebooks) != 1 || list.Notebooks[0].Unreachable == nil {
		t.Fatalf("list %+v", list.Notebooks)
	}
	code, body := th.get(t, "hello")
	if code != http.StatusBadGateway || !strings.Contains(body, "is not reachable: unreachable since "+nb.Unreachable.Since.Local().Format("15:04:05")) {
		t.Fatalf("proxy: %d %s", code, body)
	}
	th.harness.srv.reconcile(context.Background())
	if len(th.slurm.cancels) != 0 || th.harness.get(th.task.ID).State != api.StateRunning {
		t.Fatalf("an unreachable task was ended: cancels %v", th.slurm.cancels)
	}
	th.launch(t)
	if code, _ := th.get(t, "hello"); code != http.StatusOK {
		t.Fatalf("after the job dialled again: %d", code)
	}
	if nb := th.harness.get(th.task.ID); nb.Unreachable != nil {
		t.Fatalf("still unreachable: %+v", nb.Unreachable)
	}
}

// TestTunnelAfterRestart: after a restart a running task in tunnel mode
// waits for its job to dial again; the grace period counts from the
// start, and a request meanwhile waits for the tunnel.
func TestTunnelAfterRestart(t *testing.T) {
	th := newTunnelHarness(t)
	th.launch(t)
	s2 := New(th.harness.srv.cfg, th.harness.srv.store, th.slurm, th.harness.srv.log)
	s2.lookupPosix = testAccounts
	if err := s2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := s2.tunnels.Status(th.task.ID)
	if d == nil || d.Unreachable || !strings.Contains(d.Reason, "the bridge restarted") {
		t.Fatalf("after a restart: %+v", d)
	}
	s2.tunnels.Wait = 50 * time.Millisecond
	_, err := s2.tunnels.Dial(context.Background(), th.task.ID)
	var down *tunnel.Down
	if !errors.As(err, &down) {
		t.Fatalf("dial before the job is back: %v", err)
	}
}
