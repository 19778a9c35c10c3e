// Package webui is det-bridge's browser interface: plain HTML, CSS and
// JavaScript modules embedded in the binary and served under /det/. The
// third-party files the pages load (uPlot, for the Admin page's charts)
// are embedded from static/vendor/, which vendor.sh fills at build time
// from npm; they are never kept in the repository.
package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Prefix is the path the WebUI is served under.
const Prefix = "/det/"

// index is the page every route of the single-page app answers with.
const index = "index.html"

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".json": "application/json",
}

// csp allows only the WebUI's own files and the bridge's API.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

type file struct {
	name  string
	data  []byte
	etag  string
	ctype string
}

type handler struct {
	files map[string]*file
}

// Handler serves the WebUI's files under /det/. A path without a file
// extension is a route of the app and gets index.html. Every answer asks
// the browser to revalidate (by ETag), so a new bridge binary's pages are
// never mixed with an old one's.
func Handler() http.Handler {
	h := &handler{files: map[string]*file{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ctype, ok := contentTypes[path.Ext(p)]
		if !ok {
			ctype = "application/octet-stream"
		}
		name := strings.TrimPrefix(p, "static/")
		h.files[name] = &file{name: name, data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: ctype}
		return nil
	})
	if err != nil || h.files[index] == nil {
		panic("webui: the embedded files are incomplete: " + index + " is missing") // a build defect, never a run-time condition
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rel := strings.TrimPrefix(r.URL.Path, Prefix)
	f := h.files[rel]
	if f == nil {
		if path.Ext(rel) != "" {
			http.NotFound(w, r)
			return
		}
		f = h.files[index]
	}
	hdr := w.Header()
	hdr.Set("Content-Type", f.ctype)
	hdr.Set("ETag", f.etag)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	if f.name == index {
		hdr.Set("Content-Security-Policy", csp)
	}
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.data))
}
