package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStaleSavedToken: a saved token the bridge no longer takes (a new
// database, an expired session) is dropped, and det goes on as without
// one (here: the default user), instead of failing every command.
func TestStaleSavedToken(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("DET_USER", "")
	os.Unsetenv("DET_USER")
	t.Setenv("DET_USER_TOKEN", "")
	t.Setenv("PATH", "") // no munge
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v1/auth/login":
			_ = json.NewEncoder(w).Encode(map[string]any{"token": "fresh", "user": map[string]any{"username": "determined"}})
		case r.Header.Get("Authorization") != "Bearer fresh":
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]any{"code": 16, "message": "not logged in"})
		case r.URL.Path == "/api/v1/me":
			_ = json.NewEncoder(w).Encode(map[string]any{"user": map[string]any{"username": "determined"}})
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{"notebooks": []any{}})
		}
	}))
	defer srv.Close()
	p := filepath.Join(home, ".det", "auth.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	saved, _ := json.Marshal(map[string]any{"masters": map[string]any{srv.URL: map[string]any{"user": "determined", "token": "stale"}}})
	if err := os.WriteFile(p, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := Execute(context.Background(), []string{"-m", srv.URL, "notebook", "list"}, IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}); code != 0 {
		t.Fatalf("det notebook list with a stale saved token: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if data, _ := os.ReadFile(p); strings.Contains(string(data), "stale") {
		t.Errorf("the stale token is still saved: %s", data)
	}
}
