package bridge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
)

// TestPathsNeverRedirect: a path with dot segments or encoded slashes
// gets a 4xx and no Location, through the router and the proxy alike.
func TestPathsNeverRedirect(t *testing.T) {
	h := newHarness(t)
	id := "0a1b2c3d-0000-4000-8000-000000000000"
	for _, target := range []string{
		"/api/v1/../api/v1/me",
		"/api/v1/./me",
		"/api/v1/%2e%2e/api/v1/me",
		"/api/v1/.%2E/api/v1/me",
		"/api/v1/users%2Fadmin",
		"/api/v1/users%2fadmin%2fpassword",
		"/proxy/" + id + "/../../api/v1/users",
		"/proxy/" + id + "/..%2F..%2Fapi/v1/users",
		"/proxy/" + id + "/%2e%2e/%2e%2e/api/v1/users",
		"/det/../api/v1/me",
		"//api/v1/me",
		"/api/v1//me",
		"/api/v1/me%00",
	} {
		w := h.req(http.MethodGet, target, nil, nil)
		if w.Code < 400 || w.Code >= 500 || w.Header().Get("Location") != "" {
			t.Errorf("GET %s: %d Location=%q %s, want a 4xx without Location", target, w.Code, w.Header().Get("Location"), w.Body.String())
		}
	}
	// Plain paths still work, query strings with encoded slashes included.
	if w := h.req(http.MethodGet, "/api/v1/me?x=a%2Fb", nil, nil); w.Code != http.StatusOK {
		t.Errorf("GET /api/v1/me: %d %s", w.Code, w.Body.String())
	}
}

// TestLongURL: a 100 KiB URL is 414, for the API and the proxy.
func TestLongURL(t *testing.T) {
	h := newHarness(t)
	long := strings.Repeat("a", 100<<10)
	for _, target := range []string{"/api/v1/notebooks/" + long, "/proxy/" + long + "/", "/api/v1/me?q=" + long} {
		w := h.req(http.MethodGet, target, nil, nil)
		if w.Code != http.StatusRequestURITooLong || !strings.Contains(w.Body.String(), "16 KiB") {
			t.Errorf("GET %.40s...: %d %s, want 414 naming the limit", target, w.Code, w.Body.String())
		}
	}
}

// TestBodyOverLimit: a declared body over an endpoint's limit is 413
// naming the limit, without reading it; an undeclared one is 413 too.
func TestBodyOverLimit(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		path, limit string
		size        int64
	}{
		{"/api/v1/auth/login", "1 MiB", 2 << 20},
		{"/api/v1/notebooks", "160 MiB", 200 << 20},
		{"/api/v1/shells", "160 MiB", 200 << 20},
		{"/api/v1/me/settings", "4 KiB", 5 << 10},
	} {
		method := http.MethodPost
		if c.path == "/api/v1/me/settings" {
			method = http.MethodPut
		}
		body := &unreadBody{}
		r := httptest.NewRequest(method, c.path, body)
		r.ContentLength = c.size
		r.Header.Set("Authorization", "Bearer "+h.token)
		w := httptest.NewRecorder()
		h.h.ServeHTTP(w, r)
		if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), c.limit) {
			t.Errorf("%s with %d bytes declared: %d %s, want 413 naming %s", c.path, c.size, w.Code, w.Body.String(), c.limit)
		}
		if body.read {
			t.Errorf("%s: the body was read", c.path)
		}
	}
	// Without Content-Length the limit still holds.
	r := httptest.NewRequest(http.MethodPost, "/api/v1/auth/login", strings.NewReader(`{"username":"`+strings.Repeat("a", 2<<20)+`"}`))
	r.ContentLength = -1
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "1 MiB") {
		t.Errorf("chunked oversize login: %d %s", w.Code, w.Body.String())
	}
}

type unreadBody struct{ read bool }

func (b *unreadBody) Read(p []byte) (int, error) { b.read = true; return 0, io.EOF }

// TestExpectContinueGets413: over a real connection, a client that sends
// "Expect: 100-continue" and an oversize Content-Length gets the 413, not
// a "100 Continue", and the body is never needed.
func TestExpectContinueGets413(t *testing.T) {
	h := newHarness(t)
	srv := httptest.NewServer(h.h)
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /api/v1/notebooks HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		srv.Listener.Addr(), h.token, 200<<20)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(body, []byte("160 MiB")) {
		t.Fatalf("got %d %s, want 413 naming the limit", resp.StatusCode, body)
	}
	var e api.Error
	if err := json.Unmarshal(body, &e); err != nil || e.Message == "" {
		t.Errorf("413 body is not an API error: %s", body)
	}
}
