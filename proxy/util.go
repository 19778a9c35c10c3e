package proxy

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/det-slurm/bridge/api"
)

// activityConn wraps the upstream side of an upgraded (websocket)
// connection and records activity for each message that counts, judged by
// its first bytes as the frames pass.
type activityConn struct {
	io.ReadWriteCloser
	fromServer *frameScanner
	toServer   *frameScanner
}

func newActivityConn(rwc io.ReadWriteCloser, kind wsKind, last *atomic.Int64) *activityConn {
	return &activityConn{
		ReadWriteCloser: rwc,
		fromServer: newFrameScanner(func(op byte, head []byte) {
			if countsMessage(kind, false, op, head) {
				touch(last)
			}
		}),
		toServer: newFrameScanner(func(op byte, head []byte) {
			if countsMessage(kind, true, op, head) {
				touch(last)
			}
		}),
	}
}

func (c *activityConn) Read(p []byte) (int, error) {
	n, err := c.ReadWriteCloser.Read(p)
	if n > 0 {
		c.fromServer.scan(p[:n])
	}
	return n, err
}

func (c *activityConn) Write(p []byte) (int, error) {
	n, err := c.ReadWriteCloser.Write(p)
	if n > 0 {
		c.toServer.scan(p[:n])
	}
	return n, err
}

// WriteTo copies what the server sends to w (io.Copy's choice when the
// proxy copies this connection to the client), holding a small buffer
// while the connection is idle (copyAdaptive).
func (c *activityConn) WriteTo(w io.Writer) (int64, error) { return copyAdaptive(w, readerOnly{c}) }

// ReadFrom copies what the client sends from r to the server (io.Copy's
// choice, through the client connection's WriteTo, when the proxy copies
// the other way), as WriteTo does.
func (c *activityConn) ReadFrom(r io.Reader) (int64, error) { return copyAdaptive(writerOnly{c}, r) }

// readerOnly and writerOnly hide every method but Read or Write, so a
// copy inside WriteTo or ReadFrom does not come back to them.
type readerOnly struct{ io.Reader }

type writerOnly struct{ io.Writer }

// stripCookies removes the named cookies from the Cookie header(s), keeping
// the others byte for byte.
func stripCookies(h http.Header, names map[string]bool) {
	if len(names) == 0 || len(h.Values("Cookie")) == 0 {
		return
	}
	var keep []string
	for _, line := range h.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			if !names[strings.TrimSpace(name)] {
				keep = append(keep, part)
			}
		}
	}
	if len(keep) == 0 {
		h.Del("Cookie")
		return
	}
	h.Set("Cookie", strings.Join(keep, "; "))
}

// stripQueryParam removes every occurrence of the parameter key from a raw
// query, leaving the rest exactly as sent.
func stripQueryParam(raw, key string) string {
	if raw == "" {
		return raw
	}
	parts := strings.Split(raw, "&")
	kept := parts[:0]
	for _, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if uk, err := url.QueryUnescape(k); err == nil && uk == key {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&")
}

// relativeLocation turns an absolute URL on host into a path-only reference.
func relativeLocation(loc, host string) (string, bool) {
	u, err := url.Parse(loc)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, host) {
		return "", false
	}
	rel := u.EscapedPath()
	if rel == "" {
		rel = "/"
	}
	if strings.HasPrefix(rel, "//") {
		rel = "/" + strings.TrimLeft(rel, "/") // never a scheme-relative URL
	}
	if u.RawQuery != "" {
		rel += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		rel += "#" + u.EscapedFragment()
	}
	return rel, true
}

const errorPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>%d %s</title><link rel="stylesheet" href="/det/app.css"></head>
<body><main><h1>%s</h1><p>%s</p><p><a href="/det/">Back to Tasks</a></p></main></body></html>
`

// writeError answers with a small HTML page when the client accepts HTML,
// and with the API's error body (Determined's shape) otherwise.
func writeError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	h := w.Header()
	h.Del("Content-Length")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if strings.Contains(strings.Join(r.Header.Values("Accept"), ","), "text/html") {
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(code)
		text := http.StatusText(code)
		fmt.Fprintf(w, errorPage, code, html.EscapeString(text), html.EscapeString(text), html.EscapeString(msg))
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(api.NewError(code, msg))
}
