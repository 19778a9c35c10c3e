package bridge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
)

func TestNormalizeShortcut(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"Alt+Shift+J", "Alt+Shift+J", ""},
		{" shift + alt + j ", "Alt+Shift+J", ""},
		{"cmd+control+5", "Ctrl+Meta+5", ""},
		{"F2", "F2", ""},
		{"Shift+F12", "Shift+F12", ""},
		{"", "", ""},
		{"Shift+J", "", "would fire while typing"},
		{"J", "", "would fire while typing"},
		{"F", "", "would fire while typing"},
		{"Alt+J+K", "", "names two keys"},
		{"Alt+Shift", "", "no key"},
		{"Alt+Alt+J", "", "twice"},
		{"Ctrl+Enter", "", "not a key"},
		{"Ctrl+F13", "", "not a key"},
	} {
		got, err := normalizeShortcut(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one saying %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestSettingsAPI(t *testing.T) {
	h := newHarness(t)
	var got api.Settings
	h.do("GET", "/api/v1/me/settings", nil, &got, http.StatusOK)
	if got.LaunchShortcut != DefaultLaunchShortcut || got.DefaultLaunchShortcut != DefaultLaunchShortcut {
		t.Fatalf("a new user's settings: %+v", got)
	}
	h.do("PUT", "/api/v1/me/settings", api.Settings{LaunchShortcut: "ctrl+alt+k"}, &got, http.StatusOK)
	if got.LaunchShortcut != "Ctrl+Alt+K" {
		t.Fatalf("saved settings: %+v", got)
	}
	h.do("GET", "/api/v1/me/settings", nil, &got, http.StatusOK)
	if got.LaunchShortcut != "Ctrl+Alt+K" {
		t.Fatalf("settings read back: %+v", got)
	}
	h.do("PUT", "/api/v1/me/settings", api.Settings{LaunchShortcut: "K"}, nil, http.StatusBadRequest)
	h.do("PUT", "/api/v1/me/settings", api.Settings{LaunchShortcut: ""}, &got, http.StatusOK)
	if got.LaunchShortcut != "" {
		t.Fatalf("turning the shortcut off: %+v", got)
	}

	// A cookie session needs the bridge's own origin (httptest's host is
	// example.com) to change settings.
	h.token = ""
	var lr api.LoginResponse
	h.do("POST", "/api/v1/auth/login", api.LoginRequest{Username: "admin"}, &lr, http.StatusOK)
	cookie := map[string]string{"Cookie": CookieName + "=" + lr.Token, "Content-Type": "application/json"}
	if w := h.req("PUT", "/api/v1/me/settings", api.Settings{LaunchShortcut: "Alt+K"}, cookie); w.Code != http.StatusForbidden {
		t.Fatalf("cookie PUT without Origin: %d %s", w.Code, w.Body)
	}
	cookie["Origin"] = "http://example.com"
	if w := h.req("PUT", "/api/v1/me/settings", api.Settings{LaunchShortcut: "Alt+K"}, cookie); w.Code != http.StatusOK {
		t.Fatalf("cookie PUT from the bridge's origin: %d %s", w.Code, w.Body)
	}
	h.token = lr.Token
	h.do("GET", "/api/v1/me/settings", nil, &got, http.StatusOK)
	if got.LaunchShortcut != "Alt+K" {
		t.Fatalf("admin's settings: %+v", got)
	}
}

func TestWebUIMounted(t *testing.T) {
	h := newHarness(t)
	for path, want := range map[string]int{"/": http.StatusFound, "/det": http.StatusFound, "/det/": http.StatusOK, "/det/settings": http.StatusOK} {
		if w := h.req("GET", path, nil, nil); w.Code != want {
			t.Errorf("GET %s: %d, want %d", path, w.Code, want)
		}
	}
}
