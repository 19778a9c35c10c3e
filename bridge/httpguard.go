package bridge

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// maxRequestURI bounds a request's target (path and query). Jupyter's and
// the API's URLs stay far below it; a longer one is refused before any
// route, database lookup or proxy sees it.
const maxRequestURI = 16 << 10

// guardRequest answers, and returns false for, a request no route may
// see: a target longer than maxRequestURI (414), or a path with dot
// segments ("..", ".", also percent-encoded), an encoded slash (%2F) or an
// encoded NUL (400). Routers would clean such a path and redirect (301) to
// another route, and a notebook server might resolve it to a path outside
// /proxy/<id>/; a 4xx leaves nothing to follow. It runs ahead of both the
// proxy and the router.
func guardRequest(w http.ResponseWriter, r *http.Request) bool {
	if len(r.RequestURI) > maxRequestURI || len(r.URL.RawQuery)+len(r.URL.EscapedPath()) > maxRequestURI {
		writeError(w, http.StatusRequestURITooLong, fmt.Sprintf("the URL is longer than the %d KiB this bridge accepts", maxRequestURI>>10))
		return false
	}
	// The target as sent, and the path as parsed: the parsed one shows
	// dot segments that only decoding makes (..%2F), the sent one shows an
	// encoded slash even where Go's URL keeps no raw form of the path.
	raw, _, _ := strings.Cut(r.RequestURI, "?")
	for _, p := range []string{raw, r.URL.EscapedPath()} {
		if msg := badPath(p); msg != "" {
			writeError(w, http.StatusBadRequest, msg)
			return false
		}
	}
	return true
}

// badPath says what is wrong with an escaped URL path, or "" when nothing
// is.
func badPath(p string) string {
	lower := strings.ToLower(p)
	switch {
	case strings.Contains(lower, "%2f"):
		return "the path has an encoded slash (%2F); send paths with plain slashes"
	case strings.Contains(lower, "%00"):
		return "the path has an encoded NUL (%00)"
	}
	for _, seg := range strings.Split(lower, "/") {
		if seg = strings.ReplaceAll(seg, "%2e", "."); seg == "." || seg == ".." {
			return "the path has a \".\" or \"..\" segment; send the resolved path"
		}
	}
	return ""
}

// bodyOverLimit answers 413, and returns true, when a request declares
// (Content-Length) a body larger than limit. It reads nothing, so a client
// that sent "Expect: 100-continue" gets the answer instead of a
// "100 Continue" and never sends the body.
func bodyOverLimit(w http.ResponseWriter, r *http.Request, limit int64) bool {
	if r.ContentLength <= limit {
		return false
	}
	writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is %d bytes, more than the %s this endpoint accepts", r.ContentLength, byteSize(limit)))
	return true
}

// tooLargeError turns the error of reading past a http.MaxBytesReader
// (a body without Content-Length, or one longer than it said) into the
// same 413.
func tooLargeError(w http.ResponseWriter, err error) bool {
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) {
		return false
	}
	writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is more than the %s this endpoint accepts", byteSize(mbe.Limit)))
	return true
}

// byteSize renders a limit as people write it: "1 MiB", "4 KiB", "100 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
