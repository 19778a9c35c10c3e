package proxy

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Nothing a browser receives may let it reach a notebook server around
// the proxy: the server's cookies (Jupyter's login cookie opens its port to
// whoever holds it) are dropped, and its token is overwritten in headers
// and HTML pages (JupyterLab writes it into each page's config) by a
// placeholder of the same length that is not hex, so that no cut can join
// pieces of it into the token again. The proxy replaces whatever token a
// page sends with the real one, so pages work without it.

// scrubResponse removes the server's cookies and token from resp.
func scrubResponse(resp *http.Response, token string) {
	resp.Header.Del("Set-Cookie")
	resp.Header.Del("Set-Cookie2")
	if token == "" {
		return
	}
	mask := strings.Repeat("x", len(token))
	for _, vs := range resp.Header {
		for i, v := range vs {
			if strings.Contains(v, token) {
				vs[i] = strings.ReplaceAll(v, token, mask)
			}
		}
	}
	if resp.StatusCode == http.StatusSwitchingProtocols || resp.Body == nil || resp.Body == http.NoBody {
		return
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "text/html" && mt != "application/xhtml+xml" {
		return
	}
	body := resp.Body
	switch strings.ToLower(resp.Header.Get("Content-Encoding")) {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			resp.Body = &readCloser{Reader: strings.NewReader(""), close: body.Close}
			return
		}
		body = &readCloser{Reader: zr, close: body.Close}
		resp.Header.Del("Content-Encoding")
	default:
		// An encoding the proxy cannot read: the page is not passed on.
		body.Close()
		resp.StatusCode = http.StatusBadGateway
		resp.Status = "502 Bad Gateway"
		resp.Body = io.NopCloser(strings.NewReader("notebook page in an unsupported encoding\n"))
		resp.Header.Set("Content-Type", "text/plain; charset=utf-8")
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		return
	}
	resp.Body = &readCloser{Reader: newReplacer(body, []byte(token), []byte(mask)), close: body.Close}
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
}

// plainPages asks the server for HTML pages without compression, so that
// scrubResponse needs no decoding for the usual page load.
func plainPages(h http.Header) {
	if strings.Contains(h.Get("Accept"), "text/html") {
		h.Del("Accept-Encoding")
	}
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r *readCloser) Close() error { return r.close() }

// replacer streams r with every occurrence of old replaced by new, which
// has old's length.
type replacer struct {
	r     io.Reader
	old   []byte
	new   []byte
	chunk []byte
	buf   []byte // read but not yet passed on
	out   []byte // ready to pass on
	eof   bool
	rerr  error
}

func newReplacer(r io.Reader, old, new []byte) *replacer { return &replacer{r: r, old: old, new: new} }

func (s *replacer) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		if s.eof {
			if len(s.buf) > 0 {
				s.out, s.buf = s.buf, nil
				break
			}
			return 0, s.rerr
		}
		if s.chunk == nil {
			s.chunk = make([]byte, 32<<10)
		}
		n, err := s.r.Read(s.chunk)
		s.buf = append(s.buf, s.chunk[:n]...)
		if err != nil {
			s.eof = true
			if !errors.Is(err, io.EOF) {
				s.rerr = err
			} else {
				s.rerr = io.EOF
			}
		}
		s.buf = bytes.ReplaceAll(s.buf, s.old, s.new)
		// Keep back what could be the start of a token cut by the read.
		keep := len(s.old) - 1
		if s.eof {
			keep = 0
		}
		if len(s.buf) > keep {
			s.out = append(s.out[:0], s.buf[:len(s.buf)-keep]...)
			s.buf = append(s.buf[:0], s.buf[len(s.buf)-keep:]...)
		}
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}
