// Package proxy routes /proxy/<id>/ requests to notebook servers, injecting
// each server's token and tracking activity.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/det-slurm/bridge/api"
)

// prefix is the path prefix under which the Handler is mounted.
const prefix = "/proxy/"

// Authorizer decides who may use a route. It returns nil when the request's
// user may reach a route owned by owner; ErrUnauthenticated (no/invalid
// credentials) or ErrForbidden otherwise.
type Authorizer func(r *http.Request, owner string) error

var (
	// ErrUnauthenticated means the request carries no valid credentials.
	ErrUnauthenticated = errors.New("proxy: not authenticated")
	// ErrForbidden means the authenticated user may not use the route.
	ErrForbidden = errors.New("proxy: forbidden")
)

// Options configure a Handler.
type Options struct {
	Authorize    Authorizer        // required
	StripCookies []string          // cookie names removed from the forwarded Cookie header; other cookies pass
	Logger       *slog.Logger      // nil = slog.Default()
	Transport    http.RoundTripper // nil = a tuned *http.Transport
}

// Handler serves /proxy/{id}/... . It is an http.Handler mounted by the
// bridge at the prefix "/proxy/".
type Handler struct {
	table *Table
	auth  Authorizer
	strip map[string]bool
	log   *slog.Logger
	tr    http.RoundTripper
	pool  httputil.BufferPool
	elog  *log.Logger
}

// New returns a Handler serving the routes of t. It panics if o.Authorize is nil.
func New(t *Table, o Options) *Handler {
	if o.Authorize == nil {
		panic("proxy.New: Options.Authorize is required")
	}
	h := &Handler{table: t, auth: o.Authorize, log: o.Logger, strip: map[string]bool{}}
	if h.log == nil {
		h.log = slog.Default()
	}
	for _, c := range o.StripCookies {
		h.strip[c] = true
	}
	h.tr = o.Transport
	if h.tr == nil {
		h.tr = DefaultTransport()
	}
	h.pool = &bufferPool{}
	h.elog = slog.NewLogLogger(h.log.Handler(), slog.LevelWarn)
	return h
}

// reverseProxy returns the ReverseProxy for one version of a route, built
// on first use and kept with the table entry until the route changes.
func (h *Handler) reverseProxy(id string, e *entry) *httputil.ReverseProxy {
	if c := e.rp.Load(); c != nil && c.h == h {
		return c.rp
	}
	route, last := e.route, e.last
	tr := h.tr
	switch {
	case route.Dial != nil:
		tr = h.dialingTransport(id, e)
	case route.Prove != nil:
		tr = h.provingTransport(e)
	}
	rp := &httputil.ReverseProxy{
		Rewrite:        func(pr *httputil.ProxyRequest) { h.rewrite(pr, route) },
		ModifyResponse: func(resp *http.Response) error { return h.modifyResponse(resp, id, route, last) },
		ErrorHandler:   func(w http.ResponseWriter, r *http.Request, err error) { h.proxyError(w, r, id, err) },
		Transport:      tr,
		BufferPool:     h.pool,
		ErrorLog:       h.elog,
	}
	e.rp.CompareAndSwap(nil, &routeProxy{h: h, rp: rp})
	return rp
}

// provingTransport returns the transport of a route with Prove: the tuned
// default whose every new connection must pass Prove first. One per route
// slot and target, so idle connections stay pooled across route versions.
func (h *Handler) provingTransport(e *entry) http.RoundTripper {
	if t := e.tr.Load(); t != nil {
		return t
	}
	prove := e.route.Prove
	t := DefaultTransport()
	dial := t.DialContext
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if err := prove(c); err != nil {
			c.Close()
			return nil, fmt.Errorf("the server at %s did not prove it is the notebook's: %w", addr, err)
		}
		return c, nil
	}
	if e.tr.CompareAndSwap(nil, t) {
		return t
	}
	return e.tr.Load()
}

// dialingTransport returns the transport of a route with Dial: the tuned
// default whose connections are made by the Dial of the route id has when
// it dials (so a new version of the route is used at once, and idle
// connections stay pooled across versions).
func (h *Handler) dialingTransport(id string, e *entry) http.RoundTripper {
	if t := e.tr.Load(); t != nil {
		return t
	}
	t := DefaultTransport()
	t.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		cur, ok := h.table.lookup(id)
		if !ok || cur.route.Dial == nil {
			return nil, &UnreachableError{Reason: "the notebook is no longer running"}
		}
		return cur.route.Dial(ctx)
	}
	if e.tr.CompareAndSwap(nil, t) {
		return t
	}
	return e.tr.Load()
}

// UnreachableError is an error of Route.Dial that says why the notebook
// server cannot be reached; the proxy answers 502 with Reason.
type UnreachableError struct{ Reason string }

func (e *UnreachableError) Error() string { return e.Reason }

// DefaultTransport returns the transport used when Options.Transport is nil:
// no environment proxy, 5 s dial timeout, large idle pools, HTTP/1.1 only,
// bodies passed through as the server encoded them and
// no response header timeout (notebook servers long-poll).
func DefaultTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
		DisableCompression:  true, // pass the client's Accept-Encoding through; never decode here
	}
}

// ServeHTTP resolves the task id, authorizes the request and proxies it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep := r.URL.EscapedPath()
	if !strings.HasPrefix(ep, prefix) {
		writeError(w, r, http.StatusNotFound, "not found")
		return
	}
	seg, _, hasSlash := strings.Cut(ep[len(prefix):], "/")
	id, err := url.PathUnescape(seg)
	if err != nil || id == "" {
		writeError(w, r, http.StatusNotFound, "not found")
		return
	}
	if !hasSlash {
		loc := prefix + seg + "/"
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	if up := r.Header.Get("Upgrade"); up != "" && !strings.EqualFold(up, "websocket") {
		// Only websockets go through: other protocols (a shell's SSH) have
		// handlers of their own, with their own checks.
		writeError(w, r, http.StatusBadRequest, "only websocket upgrades are proxied, not "+strconv.Quote(up))
		return
	}
	e, ok := h.table.lookup(id)
	if !ok {
		writeError(w, r, http.StatusNotFound, fmt.Sprintf("notebook %s not found", id))
		return
	}
	if err := h.auth(r, e.route.Owner); err != nil {
		switch {
		case errors.Is(err, ErrUnauthenticated):
			writeError(w, r, http.StatusUnauthorized, "authentication required")
		case errors.Is(err, ErrForbidden):
			writeError(w, r, http.StatusForbidden, fmt.Sprintf("notebook %s belongs to another user", id))
		default:
			h.log.Error("proxy: authorization failed", "task", id, "err", err)
			writeError(w, r, http.StatusInternalServerError, "authorization failed")
		}
		return
	}
	if e.route.Target == nil {
		state := api.StateName(e.route.State)
		if e.route.State == api.StateTerminated {
			msg := fmt.Sprintf("notebook %s is terminated", id)
			if e.route.Reason != "" {
				msg += ": " + e.route.Reason
			}
			writeError(w, r, http.StatusGone, msg)
			return
		}
		w.Header().Set("Retry-After", "2")
		writeError(w, r, http.StatusServiceUnavailable,
			fmt.Sprintf("notebook %s is not running yet (state %s)", id, state))
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, prefix+id+"/")
	if countsHTTP(r, rest) {
		touch(e.last)
	}
	h.reverseProxy(id, e).ServeHTTP(w, r)
}

// rewrite points the outbound request at the notebook server, keeping the
// original path and query, and replaces the client's credentials with the
// server's token.
func (h *Handler) rewrite(pr *httputil.ProxyRequest, route Route) {
	target := route.Target
	pr.Out.URL.Scheme = target.Scheme
	pr.Out.URL.Host = target.Host
	pr.Out.Host = target.Host
	pr.SetXForwarded()

	hdr := pr.Out.Header
	hdr.Del("Authorization")
	hdr.Del("Origin") // checked by the Authorizer; the server's own check would know only one origin
	plainPages(hdr)
	stripCookies(hdr, h.strip)
	pr.Out.URL.RawQuery = stripQueryParam(pr.Out.URL.RawQuery, "token")
	if route.Token != "" {
		hdr.Set("Authorization", "token "+route.Token)
	}
}

// modifyResponse removes the server's cookies and token (scrub.go), makes
// Location headers that point at the notebook server relative and wraps
// upgraded connections so that websocket messages count as activity.
func (h *Handler) modifyResponse(resp *http.Response, id string, route Route, last *atomic.Int64) error {
	scrubResponse(resp, route.Token)
	if loc := resp.Header.Get("Location"); loc != "" {
		if rel, ok := relativeLocation(loc, route.Target.Host); ok {
			resp.Header.Set("Location", rel)
		}
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		if rwc, ok := resp.Body.(io.ReadWriteCloser); ok {
			rest := strings.TrimPrefix(resp.Request.URL.Path, prefix+id+"/")
			resp.Body = newActivityConn(rwc, kindOf(rest), last)
		}
	}
	return nil
}

// proxyError answers 502 when the notebook server cannot be reached.
func (h *Handler) proxyError(w http.ResponseWriter, r *http.Request, id string, err error) {
	if r.Context().Err() != nil {
		return // the client went away
	}
	var ue *UnreachableError
	if errors.As(err, &ue) {
		h.log.Debug("proxy: notebook unreachable", "task", id, "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, r, http.StatusBadGateway, fmt.Sprintf("notebook %s is not reachable: %s", id, ue.Reason))
		return
	}
	h.log.Warn("proxy: notebook server did not answer", "task", id, "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, r, http.StatusBadGateway,
		fmt.Sprintf("notebook %s is not reachable: the notebook server did not answer", id))
}

// bufferPool recycles 32 KiB copy buffers.
type bufferPool struct{ p sync.Pool }

const bufSize = 32 << 10

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().([]byte); ok {
		return v
	}
	return make([]byte, bufSize)
}

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) == bufSize {
		b.p.Put(buf[:bufSize])
	}
}
