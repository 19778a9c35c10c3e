package sshd

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestForwardToLoopback(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from the job")
	}))
	defer web.Close()
	ts := startServer(t)
	c := ts.client(t)
	_, port, _ := net.SplitHostPort(web.Listener.Addr().String())
	for _, host := range []string{"127.0.0.1", "localhost"} {
		hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return c.DialContext(ctx, network, addr)
		}}}
		resp, err := hc.Get("http://" + net.JoinHostPort(host, port) + "/")
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hello from the job" {
			t.Fatalf("%s: got %q", host, body)
		}
		hc.CloseIdleConnections()
	}
	waitFor(t, func() bool { return ts.srv.Active() == 0 })
}

func TestForwardElsewhereRefused(t *testing.T) {
	c := startServer(t).client(t)
	for _, addr := range []string{"10.0.0.1:80", "example.com:80", "127.0.0.1:0"} {
		conn, err := c.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			t.Errorf("%s: forward opened", addr)
			continue
		}
		if addr != "127.0.0.1:0" && !strings.Contains(err.Error(), "only loopback") {
			t.Errorf("%s: refused without the reason: %v", addr, err)
		}
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "localhost": true, "127.0.0.2": true, "::ffff:127.0.0.1": true,
		"10.0.0.1": false, "0.0.0.0": false, "::": false, "LOCALHOST.": false, "127.1": false, "": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v", host, got)
		}
	}
}
