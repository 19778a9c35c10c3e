package proxy

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Route is where one task's traffic goes. A route with a nil Target is known
// but not reachable (queued, starting, terminated); State and Reason say why.
type Route struct {
	Target *url.URL // e.g. http://127.0.0.1:34567 ; nil when not running
	// Prove, when set, runs on every new connection to Target before any
	// request is sent on it; an error drops the connection, so a process
	// that took the port after the notebook's server left never receives
	// a request (nor the token).
	Prove func(net.Conn) error
	// Dial, when set, makes every connection to the notebook server in
	// place of dialling Target, whose host is then a placeholder that is
	// never resolved (a tunnel to the job). An error that is an
	// *UnreachableError is answered with its text.
	Dial   func(ctx context.Context) (net.Conn, error)
	Token  string // the notebook server's token, injected as "Authorization: token <Token>"; never sent to the client
	Owner  string // bridge username of the owner
	State  string // the task's state, one of api.State*
	Reason string // e.g. "killed by user"
}

// entry is one version of a table slot; Set replaces it whole. The activity
// counter is shared by every version so that Set keeps it and the proxy can
// touch it without locking.
type entry struct {
	route Route
	last  *atomic.Int64 // UnixNano of the last activity; 0 if none yet
	rp    atomic.Pointer[routeProxy]
	// tr is the proving transport of a route with Prove, or the dialling
	// one of a route with Dial; versions with the same Target share it
	// (and its idle connections).
	tr *atomic.Pointer[http.Transport]
}

// routeProxy is the ReverseProxy a Handler built for one entry, so that the
// route reaches the proxy's hooks without a per-request context value.
type routeProxy struct {
	h  *Handler
	rp *httputil.ReverseProxy
}

// Table is the concurrency-safe route table. Reads (Get, Touch, LastActivity)
// take a read lock; activity updates are atomic stores.
type Table struct {
	mu sync.RWMutex
	m  map[string]*entry
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{m: make(map[string]*entry)}
}

// Set creates or replaces the route for id, keeping the activity time of an
// existing entry. The Target URL is copied.
func (t *Table) Set(id string, r Route) {
	r.Target = cloneURL(r.Target)
	t.mu.Lock()
	defer t.mu.Unlock()
	e := &entry{route: r}
	if old, ok := t.m[id]; ok {
		e.last = old.last
		if sameTarget(old.route, r) {
			e.tr = old.tr
		} else {
			closeIdle(old.tr)
		}
	} else {
		e.last = new(atomic.Int64)
	}
	if e.tr == nil {
		e.tr = new(atomic.Pointer[http.Transport])
	}
	t.m[id] = e
}

func sameTarget(a, b Route) bool {
	return a.Target != nil && b.Target != nil && *a.Target == *b.Target && (a.Prove == nil) == (b.Prove == nil) &&
		(a.Dial == nil) == (b.Dial == nil)
}

func closeIdle(tr *atomic.Pointer[http.Transport]) {
	if t := tr.Load(); t != nil {
		t.CloseIdleConnections()
	}
}

// Get returns the route for id. The returned Target is a copy.
func (t *Table) Get(id string) (Route, bool) {
	e, ok := t.lookup(id)
	if !ok {
		return Route{}, false
	}
	r := e.route
	r.Target = cloneURL(r.Target)
	return r, true
}

// Delete forgets id and its activity time.
func (t *Table) Delete(id string) {
	t.mu.Lock()
	if e, ok := t.m[id]; ok {
		closeIdle(e.tr)
	}
	delete(t.m, id)
	t.mu.Unlock()
}

// LastActivity returns the last counted activity of id; the zero time if
// there was none yet. ok is false for an unknown id.
func (t *Table) LastActivity(id string) (time.Time, bool) {
	e, ok := t.lookup(id)
	if !ok {
		return time.Time{}, false
	}
	ns := e.last.Load()
	if ns == 0 {
		return time.Time{}, true
	}
	return time.Unix(0, ns), true
}

// Touch records activity on id now. Unknown ids are ignored.
func (t *Table) Touch(id string) {
	if e, ok := t.lookup(id); ok {
		touch(e.last)
	}
}

// lookup returns the stored entry without copying the Target; callers must
// treat it as read-only.
func (t *Table) lookup(id string) (*entry, bool) {
	t.mu.RLock()
	e, ok := t.m[id]
	t.mu.RUnlock()
	return e, ok
}

func touch(last *atomic.Int64) {
	last.Store(time.Now().UnixNano())
}

func cloneURL(u *url.URL) *url.URL {
	if u == nil {
		return nil
	}
	c := *u
	return &c
}
