package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/websocket"
)

// TestDialSSH: the SSH websocket is the shell's service address (the root
// path, id escaped) with the token, and its binary messages go both ways.
func TestDialSSH(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != "/proxy/ab%2F12/" || r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("dialled %s with %q", r.URL.EscapedPath(), r.Header.Get("Authorization"))
		}
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		mt, data, err := conn.ReadMessage()
		if err == nil {
			_ = conn.WriteMessage(mt, data)
		}
	}))
	defer srv.Close()
	conn, err := New(srv.URL, "tok").DialSSH(context.Background(), "ab/12")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.WriteMessage(websocket.BinaryMessage, []byte("SSH-2.0-x\r\n")); err != nil {
		t.Fatal(err)
	}
	if mt, data, err := conn.ReadMessage(); err != nil || mt != websocket.BinaryMessage || string(data) != "SSH-2.0-x\r\n" {
		t.Fatalf("read %d %q %v", mt, data, err)
	}
}

// TestDialRefused: a refused dial names the status and the bridge's
// message; a 401 is ErrUnauthorized.
func TestDialRefused(t *testing.T) {
	for _, tc := range []struct {
		code   int
		body   string
		want   string
		unauth bool
	}{
		{http.StatusForbidden, `{"error":"shell ab12 is not yours"}`, "the bridge answered 403 Forbidden: shell ab12 is not yours", false},
		{http.StatusBadGateway, `{"code":14,"message":"the shell's job is unreachable","details":[],"error":{"code":502}}`, "the bridge answered 502 Bad Gateway: the shell's job is unreachable", false},
		{http.StatusUnauthorized, ``, "the bridge answered 401 Unauthorized", true},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.code)
			_, _ = w.Write([]byte(tc.body))
		}))
		_, err := New(srv.URL, "tok").DialSSH(context.Background(), "ab12")
		srv.Close()
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != tc.code || ae.Message != tc.want || errors.Is(err, ErrUnauthorized) != tc.unauth {
			t.Errorf("%d: %v, want %q", tc.code, err, tc.want)
		}
	}
	if _, err := New("http://127.0.0.1:1", "tok").DialShell(context.Background(), "ab12"); err == nil {
		t.Error("a dial to no bridge succeeded")
	}
}
