package proxy

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

const tok = "0123456789abcdef0123456789abcdef0123456789abcdef"

var mask = strings.Repeat("x", len(tok))

func TestReplacer(t *testing.T) {
	for _, in := range []string{
		"", "plain", tok, "a" + tok + "b" + tok, strings.Repeat("x", 70000) + tok + strings.Repeat("y", 40000),
		tok[:10] + tok + tok[10:], // a partial token around a whole one: no token may come out of it
	} {
		want := strings.ReplaceAll(in, tok, mask)
		for name, r := range map[string]io.Reader{
			"whole":   strings.NewReader(in),
			"onebyte": iotest.OneByteReader(strings.NewReader(in)),
			"half":    iotest.HalfReader(strings.NewReader(in)),
		} {
			got, err := io.ReadAll(newReplacer(r, []byte(tok), []byte(mask)))
			if err != nil || string(got) != want || strings.Contains(string(got), tok) {
				t.Errorf("%s %.20q: got %d bytes (%v), want %d", name, in, len(got), err, len(want))
			}
		}
	}
}

func response(ct, enc string, body []byte) *http.Response {
	h := http.Header{}
	h.Set("Content-Type", ct)
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	h.Add("Set-Cookie", "username-127-0-0-1-8888=secret; Path=/")
	h.Add("Set-Cookie", "_xsrf=x; Path=/")
	h.Set("Content-Length", "1")
	h.Set("Location", "/lab?token="+tok)
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
}

// TestScrubResponse: neither Jupyter's cookies nor its token reach the
// browser, whether the page came plain or gzip-encoded.
func TestScrubResponse(t *testing.T) {
	page := `<script id="jupyter-config-data">{"token": "` + tok + `"}</script>`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(page))
	zw.Close()
	for _, c := range []struct {
		name, ct, enc string
		body          []byte
		want          string
	}{
		{"html", "text/html; charset=UTF-8", "", []byte(page), `<script id="jupyter-config-data">{"token": "` + mask + `"}</script>`},
		{"gzip html", "text/html", "gzip", gz.Bytes(), `<script id="jupyter-config-data">{"token": "` + mask + `"}</script>`},
		{"json passes", "application/json", "", []byte(`{"a":1}`), `{"a":1}`},
	} {
		resp := response(c.ct, c.enc, c.body)
		scrubResponse(resp, tok)
		if resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: Set-Cookie forwarded", c.name)
		}
		if strings.Contains(resp.Header.Get("Location"), tok) {
			t.Errorf("%s: token in Location", c.name)
		}
		got, _ := io.ReadAll(resp.Body)
		if string(got) != c.want {
			t.Errorf("%s: body %q, want %q", c.name, got, c.want)
		}
		if c.ct != "application/json" && (resp.Header.Get("Content-Length") != "" || resp.Header.Get("Content-Encoding") != "") {
			t.Errorf("%s: stale Content-Length or Content-Encoding", c.name)
		}
	}
}
