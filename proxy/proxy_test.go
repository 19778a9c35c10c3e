package proxy

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
)

// fixture is a bridge-like server with the proxy mounted at /proxy/.
type fixture struct {
	table *Table
	srv   *httptest.Server
}

// testAuth authorizes the user named in the X-User header.
func testAuth(r *http.Request, owner string) error {
	switch u := r.Header.Get("X-User"); u {
	case "":
		return ErrUnauthenticated
	case owner:
		return nil
	default:
		return ErrForbidden
	}
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	tb := NewTable()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	mux.Handle("/proxy/", New(tb, Options{Authorize: testAuth, StripCookies: []string{"det_session"}, Logger: log}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{table: tb, srv: srv}
}

func (f *fixture) addUpstream(t *testing.T, id string, h http.Handler) {
	t.Helper()
	up := httptest.NewServer(h)
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	f.table.Set(id, Route{Target: u, Token: "secret-" + id, Owner: "alice", State: api.StateRunning})
}

func (f *fixture) do(t *testing.T, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestForwarding(t *testing.T) {
	f := newFixture(t)
	var got *http.Request
	f.addUpstream(t, "nb1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Location", "http://"+r.Host+"/proxy/nb1/tree?a=1")
		w.WriteHeader(http.StatusFound)
	}))
	resp, _ := f.do(t, "/proxy/nb1/files/a%20b%2Fc.txt?x=1&token=leak&y=%2F&token=2", map[string]string{
		"X-User":        "alice",
		"Authorization": "Bearer bridge-token",
		"Cookie":        "det_session=s3cr3t; _xsrf=2|abc|def; other=1",
	})
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got == nil {
		t.Fatal("upstream not called")
	}
	if want := "/proxy/nb1/files/a%20b%2Fc.txt?x=1&y=%2F"; got.RequestURI != want {
		t.Errorf("upstream RequestURI = %q, want %q", got.RequestURI, want)
	}
	if a := got.Header.Values("Authorization"); len(a) != 1 || a[0] != "token secret-nb1" {
		t.Errorf("upstream Authorization = %q", a)
	}
	if c := got.Header.Get("Cookie"); c != "_xsrf=2|abc|def; other=1" {
		t.Errorf("upstream Cookie = %q", c)
	}
	if got.Header.Get("X-Forwarded-For") == "" || got.Header.Get("X-Forwarded-Host") == "" {
		t.Errorf("X-Forwarded headers missing: %v", got.Header)
	}
	if loc := resp.Header.Get("Location"); loc != "/proxy/nb1/tree?a=1" {
		t.Errorf("Location = %q", loc)
	}
	if at, _ := f.table.LastActivity("nb1"); at.IsZero() {
		t.Error("request did not count as activity")
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t)
	f.addUpstream(t, "nb1", http.NotFoundHandler())
	f.table.Set("queued", Route{Owner: "alice", State: api.StateQueued})
	f.table.Set("dead", Route{Owner: "alice", State: api.StateTerminated, Reason: "killed by user"})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed, _ := url.Parse("http://" + l.Addr().String())
	l.Close()
	f.table.Set("gone", Route{Target: closed, Token: "t", Owner: "alice", State: api.StateRunning})

	alice := map[string]string{"X-User": "alice"}
	tests := []struct {
		name, path string
		hdr        map[string]string
		code       int
		body       string
	}{
		{"unknown", "/proxy/nope/", alice, 404, "notebook nope not found"},
		{"unauthenticated", "/proxy/nb1/", nil, 401, "authentication required"},
		{"forbidden", "/proxy/nb1/", map[string]string{"X-User": "bob"}, 403, "belongs to another user"},
		{"queued", "/proxy/queued/api", alice, 503, "notebook queued is not running yet (state QUEUED)"},
		{"terminated", "/proxy/dead/", alice, 410, "notebook dead is terminated: killed by user"},
		{"not a websocket upgrade", "/proxy/nb1/", map[string]string{"X-User": "alice", "Connection": "Upgrade", "Upgrade": "det-ssh/1"}, 400, `only websocket upgrades are proxied, not "det-ssh/1"`},
		{"unreachable", "/proxy/gone/api/status", alice, 502, "notebook gone is not reachable: the notebook server did not answer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.do(t, tc.path, tc.hdr)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.code, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var e api.Error
			if err := json.Unmarshal([]byte(body), &e); err != nil || !strings.Contains(e.Message, tc.body) || e.Error.Code != tc.code {
				t.Errorf("body %q (%v), want error containing %q", body, err, tc.body)
			}
			if strings.Contains(body, "dial") || strings.Contains(body, "127.0.0.1") {
				t.Errorf("body leaks details: %q", body)
			}
			if ra := resp.Header.Get("Retry-After"); (tc.code == 503) != (ra == "2") {
				t.Errorf("Retry-After %q", ra)
			}
		})
	}
}

func TestHTMLErrorAndRedirect(t *testing.T) {
	f := newFixture(t)
	f.table.Set("dead", Route{Owner: "alice", State: api.StateTerminated, Reason: "<script>x</script>"})
	resp, body := f.do(t, "/proxy/dead/", map[string]string{"X-User": "alice", "Accept": "text/html,application/xhtml+xml"})
	if resp.StatusCode != 410 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(body, "&lt;script&gt;") || strings.Contains(body, "<script>") || !strings.Contains(body, `href="/det/"`) {
		t.Errorf("HTML body %q", body)
	}

	resp, _ = f.do(t, "/proxy/dead?x=1", nil)
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "/proxy/dead/?x=1" {
		t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestWebsocket(t *testing.T) {
	f := newFixture(t)
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	f.addUpstream(t, "nb1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token secret-nb1" || r.URL.Query().Has("token") {
			http.Error(w, "bad auth", http.StatusForbidden)
			return
		}
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
	}))
	wsURL := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/proxy/nb1/api/kernels/k/channels?token=x"
	conn, resp, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"X-User": {"alice"}})
	if err != nil {
		t.Fatalf("dial: %v (resp %v)", err, resp)
	}
	defer conn.Close()
	echo := func(msg string) {
		t.Helper()
		if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, got, err := conn.ReadMessage()
		if err != nil || string(got) != msg {
			t.Fatalf("echo %q: got %q, %v", msg, got, err)
		}
	}
	echo("hello")
	t1, _ := f.table.LastActivity("nb1")
	time.Sleep(5 * time.Millisecond)
	echo("again")
	t2, _ := f.table.LastActivity("nb1")
	if !t2.After(t1) {
		t.Errorf("websocket traffic did not advance LastActivity: %v -> %v", t1, t2)
	}
}

// TestRouteChange: each route version has its own ReverseProxy, so a new
// target or token takes effect on the next request, and so does an end.
func TestRouteChange(t *testing.T) {
	f := newFixture(t)
	answer := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, name+" "+r.Header.Get("Authorization"))
		})
	}
	f.addUpstream(t, "nb1", answer("first"))
	alice := map[string]string{"X-User": "alice"}
	if _, body := f.do(t, "/proxy/nb1/x", alice); body != "first token secret-nb1" {
		t.Fatalf("first route: %q", body)
	}
	up := httptest.NewServer(answer("second"))
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	f.table.Set("nb1", Route{Target: u, Token: "other", Owner: "alice", State: api.StateRunning})
	if _, body := f.do(t, "/proxy/nb1/x", alice); body != "second token other" {
		t.Fatalf("after the change: %q", body)
	}
	f.table.Set("nb1", Route{Owner: "alice", State: api.StateTerminated, Reason: "killed by user"})
	if resp, body := f.do(t, "/proxy/nb1/x", alice); resp.StatusCode != http.StatusGone || !strings.Contains(body, "killed by user") {
		t.Fatalf("after the end: HTTP %d %q", resp.StatusCode, body)
	}
}

// TestRouteProve: every new connection to a route with Prove is proved
// before a request is sent on it; a server that fails the proof never
// sees a request, and a kept-alive connection is proved once.
func TestRouteProve(t *testing.T) {
	f := newFixture(t)
	var requests atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	var proofs atomic.Int32
	f.table.Set("bad", Route{Target: u, Token: "t", Owner: "alice", State: api.StateRunning,
		Prove: func(net.Conn) error { proofs.Add(1); return errors.New("wrong proof") }})
	if resp, _ := f.do(t, "/proxy/bad/x", map[string]string{"X-User": "alice"}); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("a route whose server fails the proof: %d", resp.StatusCode)
	}
	if requests.Load() != 0 || proofs.Load() == 0 {
		t.Fatalf("requests %d, proofs %d: the server was sent a request without the proof", requests.Load(), proofs.Load())
	}
	proofs.Store(0)
	f.table.Set("good", Route{Target: u, Token: "t", Owner: "alice", State: api.StateRunning,
		Prove: func(net.Conn) error { proofs.Add(1); return nil }})
	for i := 0; i < 3; i++ {
		if resp, body := f.do(t, "/proxy/good/x", map[string]string{"X-User": "alice"}); resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("proved route: %d %q", resp.StatusCode, body)
		}
	}
	if proofs.Load() != 1 {
		t.Errorf("%d proofs for 3 requests on a kept-alive connection, want 1", proofs.Load())
	}
}
