package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
)

// TestPath joins its parts as given, so a malformed path can be built.
func TestPath(t *testing.T) {
	for got, want := range map[string]string{
		Path("notebooks", "ab12", "kill"): "/api/v1/notebooks/ab12/kill",
		Path("me"):                        "/api/v1/me",
		Path("..") + Path("me"):           "/api/v1/../api/v1/me",
		Path("users%2Fadmin"):             "/api/v1/users%2Fadmin",
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}

// TestTypedRoutes: MasterInfo, Settings, PutSettings, LoginHashed and
// DialShell send what the bridge's routes take.
func TestTypedRoutes(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		switch r.Method + " " + r.URL.Path {
		case "GET /api/v1/master":
			_ = json.NewEncoder(w).Encode(api.Master{ClusterName: "c1", Slurm: &api.SlurmStatus{Stale: true}})
		case "GET /api/v1/me/settings":
			_ = json.NewEncoder(w).Encode(api.Settings{LaunchShortcut: "Alt+K", DefaultLaunchShortcut: "Alt+Shift+J"})
		case "PUT /api/v1/me/settings":
			var s api.Settings
			_ = json.NewDecoder(r.Body).Decode(&s)
			got = append(got, s.LaunchShortcut)
			_, _ = w.Write([]byte("{}"))
		case "POST /api/v1/auth/login":
			var req api.LoginRequest
			_ = json.NewDecoder(r.Body).Decode(&req)
			got = append(got, req.Password)
			_ = json.NewEncoder(w).Encode(api.LoginResponse{Token: "hashed", User: api.User{Username: req.Username}})
		case "GET /proxy/sh-1/shell":
			conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
			if err != nil {
				return
			}
			_ = conn.WriteMessage(websocket.BinaryMessage, []byte("$ "))
			conn.Close()
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	c := New(srv.URL+"/", "t")
	if m, err := c.MasterInfo(ctx); err != nil || m.ClusterName != "c1" || !m.Slurm.Stale {
		t.Errorf("master: %+v %v", m, err)
	}
	if s, err := c.Settings(ctx); err != nil || s.LaunchShortcut != "Alt+K" || s.DefaultLaunchShortcut != "Alt+Shift+J" {
		t.Errorf("settings: %+v %v", s, err)
	}
	if err := c.PutSettings(ctx, api.Settings{LaunchShortcut: "Ctrl+Alt+K"}); err != nil {
		t.Error(err)
	}
	conn, err := c.DialShell(ctx, "sh-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != "$ " {
		t.Errorf("shell: %q %v", msg, err)
	}
	conn.Close()
	if _, err := c.DialShell(ctx, "none"); err == nil || err.Error() != "the bridge answered 404 Not Found" {
		t.Errorf("a refused shell: %v", err)
	}
	if tok, err := c.LoginHashed(ctx, "alice", "pw"); err != nil || tok != "hashed" || c.Token != "hashed" {
		t.Errorf("hashed login: %q %v", tok, err)
	}
	want := []string{"GET /api/v1/master Bearer t", "GET /api/v1/me/settings Bearer t", "PUT /api/v1/me/settings Bearer t", "Ctrl+Alt+K",
		"GET /proxy/sh-1/shell Bearer t", "GET /proxy/none/shell Bearer t", "POST /api/v1/auth/login Bearer t", api.PasswordHash("pw")}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if u := c.URL("/proxy/x/"); u != srv.URL+"/proxy/x/" {
		t.Errorf("URL %q", u)
	}
}
