package serve

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/websocket"
)

// Sizes of the backend's static bodies, by the last path segment that asks for them.
const (
	Small = 1 << 10
	Large = 1 << 20
)

// Backend is the fast static server the proxy benchmarks put behind each
// proxy. It answers any path ending in /1k or /1m with that many bytes from
// memory, and any path ending in /ws with a websocket that echoes every
// message. Paths keep whatever prefix a proxy forwards (/proxy/<id>/...).
func Backend() http.Handler {
	small := bytes.Repeat([]byte("a"), Small)
	large := bytes.Repeat([]byte("b"), Large)
	up := websocket.Upgrader{
		ReadBufferSize:  4 << 10,
		WriteBufferSize: 4 << 10,
		CheckOrigin:     func(*http.Request) bool { return true },
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/1k"):
			writeBody(w, small)
		case strings.HasSuffix(r.URL.Path, "/1m"):
			writeBody(w, large)
		case strings.HasSuffix(r.URL.Path, "/ws"):
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			echo(c)
		default:
			http.NotFound(w, r)
		}
	})
}

func writeBody(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/octet-stream"}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	_, _ = w.Write(b)
}

// echo streams every message back as it arrives, until the peer closes.
func echo(c *websocket.Conn) {
	defer c.Close()
	for {
		typ, rd, err := c.NextReader()
		if err != nil {
			return
		}
		wr, err := c.NextWriter(typ)
		if err != nil {
			return
		}
		if _, err := io.Copy(wr, rd); err != nil {
			return
		}
		if err := wr.Close(); err != nil {
			return
		}
	}
}
