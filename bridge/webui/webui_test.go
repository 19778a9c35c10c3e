package webui

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRoutesAndTypes(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		path, ctype string
		code        int
		index       bool
	}{
		{"/det/", "text/html; charset=utf-8", 200, true},
		{"/det/settings", "text/html; charset=utf-8", 200, true},
		{"/det/admin", "text/html; charset=utf-8", 200, true},
		{"/det/tasks/5b2a9ea4/logs", "text/html; charset=utf-8", 200, true},
		{"/det/app.js", "text/javascript; charset=utf-8", 200, false},
		{"/det/app.css", "text/css; charset=utf-8", 200, false},
		{"/det/favicon.svg", "image/svg+xml", 200, false},
		{"/det/missing.js", "", 404, false},
	} {
		w := get(t, h, tc.path, nil)
		if w.Code != tc.code {
			t.Errorf("GET %s: %d, want %d", tc.path, w.Code, tc.code)
			continue
		}
		if tc.code != 200 {
			continue
		}
		if got := w.Header().Get("Content-Type"); got != tc.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.ctype)
		}
		if got := w.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q", tc.path, got)
		}
		isIndex := strings.Contains(w.Body.String(), `<main id="main"`)
		if isIndex != tc.index {
			t.Errorf("GET %s: index.html served = %v, want %v", tc.path, isIndex, tc.index)
		}
		if tc.index && w.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy", tc.path)
		}
	}
	if w := httptest.NewRecorder(); true {
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/det/", nil))
		if w.Code != http.StatusMethodNotAllowed {
			t.Errorf("POST /det/: %d", w.Code)
		}
	}
}

func TestETagRevalidation(t *testing.T) {
	h := Handler()
	first := get(t, h, "/det/app.js", nil)
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if w := get(t, h, "/det/app.js", map[string]string{"If-None-Match": etag}); w.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match with the current ETag: %d", w.Code)
	}
}

// TestReferencesResolve checks that every file index.html loads and every
// module a script imports is embedded.
func TestReferencesResolve(t *testing.T) {
	h := Handler().(*handler)
	refs := regexp.MustCompile(`(?:href|src)="/det/([^"]+\.[a-z]+)"`).FindAllStringSubmatch(string(h.files[index].data), -1)
	for name, f := range h.files {
		if strings.HasSuffix(name, ".js") {
			refs = append(refs, regexp.MustCompile(`from '\./([^']+)'`).FindAllStringSubmatch(string(f.data), -1)...)
		}
	}
	if len(refs) < 10 {
		t.Fatalf("found only %d references; the patterns are out of date", len(refs))
	}
	for _, m := range refs {
		if h.files[m[1]] == nil {
			t.Errorf("%s is referenced but not embedded", m[1])
		}
	}
}

// TestVendorFiles: the files the Admin page loads from vendor/ are those
// vendor.sh copies there; when they are embedded (after vendor.sh), they
// are served as a script and a stylesheet.
func TestVendorFiles(t *testing.T) {
	h := Handler().(*handler)
	script, err := os.ReadFile("vendor.sh")
	if err != nil {
		t.Fatal(err)
	}
	loads := regexp.MustCompile(`'/det/(vendor/[^']+)'`).FindAllStringSubmatch(string(h.files["admin.js"].data), -1)
	if len(loads) != 2 {
		t.Fatalf("admin.js loads %d vendor files, want 2 (uPlot's script and stylesheet)", len(loads))
	}
	for _, m := range loads {
		if !strings.Contains(string(script), path.Base(m[1])) {
			t.Errorf("admin.js loads %s, which vendor.sh does not copy", m[1])
		}
		if h.files[m[1]] == nil {
			t.Logf("%s is not embedded (built without vendor.sh)", m[1])
			continue
		}
		want := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}[path.Ext(m[1])]
		if w := get(t, h, "/det/"+m[1], nil); w.Code != http.StatusOK || w.Header().Get("Content-Type") != want {
			t.Errorf("GET /det/%s: %d %q, want 200 %q", m[1], w.Code, w.Header().Get("Content-Type"), want)
		}
	}
}
