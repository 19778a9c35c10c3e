package bridge

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/proxy"
	"github.com/det-slurm/bridge/siteconfig"
)

// What a notebook serves is its owner's to choose, so in origin mode each
// notebook gets a browser origin of its own (site config notebook_origin).
// The bridge's session cookie never goes there: a browser that opens
// /proxy/<id>/ on the bridge's origin gets a one-time hand-off code and is
// sent to the notebook's origin, which trades the code for a cookie that
// opens that notebook only.

const (
	// NotebookCookie is the session cookie of a notebook origin.
	NotebookCookie = "det_nb"
	handoffPath    = "/_det/handoff"
	handoffTTL     = 30 * time.Second
	nbSessionTTL   = 24 * time.Hour
)

// nbGrant is a hand-off code or a notebook-origin session: it opens one
// notebook for as long as the bridge token it came from is valid.
type nbGrant struct {
	task    string
	token   string // the bridge token of the session that asked
	expires time.Time
}

// nbGrants holds hand-off codes and notebook-origin sessions in memory; a
// restart sends browsers through the hand-off again. A bridge session has
// one notebook session per notebook, reused by later hand-offs; expired
// entries are swept at most every sweepEvery, and the maps never hold more
// than maxGrants entries.
type nbGrants struct {
	mu       sync.Mutex
	codes    map[string]nbGrant
	sessions map[string]nbGrant
	pairs    map[string]string // bridge token + task -> session key
	swept    time.Time
}

const (
	maxGrants  = 100_000
	sweepEvery = 30 * time.Second
)

var errTooManyGrants = errors.New("too many notebook sign-ins at once; try again in a minute")

func newNBGrants() *nbGrants {
	return &nbGrants{codes: map[string]nbGrant{}, sessions: map[string]nbGrant{}, pairs: map[string]string{}}
}

// sweep forgets expired codes and sessions; g.mu is held.
func (g *nbGrants) sweep(now time.Time) {
	if now.Sub(g.swept) < sweepEvery && len(g.codes)+len(g.sessions) < maxGrants {
		return
	}
	g.swept = now
	for k, v := range g.codes {
		if now.After(v.expires) {
			delete(g.codes, k)
		}
	}
	for k, v := range g.sessions {
		if now.After(v.expires) {
			delete(g.sessions, k)
			delete(g.pairs, v.token+"\x00"+v.task)
		}
	}
}

// addCode returns a new one-time hand-off code for gr.
func (g *nbGrants) addCode(gr nbGrant) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweep(time.Now())
	if len(g.codes) >= maxGrants {
		return "", errTooManyGrants
	}
	key := randomHex(24)
	g.codes[key] = gr
	return key, nil
}

// addSession returns the notebook session of gr's bridge token and task,
// a new one when there is none yet.
func (g *nbGrants) addSession(gr nbGrant) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	g.sweep(now)
	pair := gr.token + "\x00" + gr.task
	if key, ok := g.pairs[pair]; ok {
		if cur, ok := g.sessions[key]; ok && now.Before(cur.expires) {
			return key, nil
		}
	}
	if len(g.sessions) >= maxGrants {
		return "", errTooManyGrants
	}
	key := randomHex(24)
	g.sessions[key] = gr
	g.pairs[pair] = key
	return key, nil
}

// redeem returns and forgets a hand-off code.
func (g *nbGrants) redeem(code string) (nbGrant, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gr, ok := g.codes[code]
	delete(g.codes, code)
	return gr, ok && time.Now().Before(gr.expires)
}

// session returns the grant of a notebook-origin session cookie.
func (g *nbGrants) session(key string) (nbGrant, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gr, ok := g.sessions[key]
	return gr, ok && time.Now().Before(gr.expires)
}

// notebookHost returns the notebook id when r was sent to a notebook
// origin.
func (s *Server) notebookHost(r *http.Request) (string, bool) {
	o, ok := s.cfg.NotebookOrigins()
	if !ok {
		return "", false
	}
	return o.ID(r.Host)
}

// misdirected is true for a host under the notebook origins' domain that
// names no notebook (a.b.nb.example.org): it gets neither the bridge nor a
// notebook.
func (s *Server) misdirected(r *http.Request) bool {
	o, ok := s.cfg.NotebookOrigins()
	return ok && o.Under(r.Host)
}

// serveNotebookOrigin serves a request sent to notebook id's own origin:
// the hand-off and the notebook's paths, nothing of the API or the WebUI.
func (s *Server) serveNotebookOrigin(w http.ResponseWriter, r *http.Request, id string, ph http.Handler) {
	if r.URL.Path == handoffPath {
		s.finishHandoff(w, r, id)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/proxy/"+id+"/") && r.URL.Path != "/proxy/"+id {
		writeError(w, http.StatusNotFound, "this origin serves notebook "+id+" only")
		return
	}
	if _, ok := s.nbSession(r, id); !ok && navigation(r) {
		// No session here (expired, or the bridge restarted): sign in again
		// through the bridge's origin, which hands off back to here.
		http.Redirect(w, r, s.externalOrigin()+r.URL.RequestURI(), http.StatusSeeOther)
		return
	}
	ph.ServeHTTP(w, r)
}

// nbSession returns the notebook-origin session a request to notebook id's
// origin carries.
func (s *Server) nbSession(r *http.Request, id string) (nbGrant, bool) {
	cs := r.CookiesNamed(s.cookieName(NotebookCookie))
	if len(cs) != 1 {
		return nbGrant{}, false
	}
	gr, ok := s.grants.session(cs[0].Value)
	return gr, ok && gr.task == id
}

// authorizeNotebookOrigin admits a request on notebook id's origin that
// carries that notebook's session cookie, whose bridge token is still
// valid and whose user owns the notebook or is an admin (recorded in the
// audit trail). State-changing requests and websockets must come from the
// notebook's own origin, since sibling notebook origins are the same site.
func (s *Server) authorizeNotebookOrigin(r *http.Request, id, owner string) error {
	gr, ok := s.nbSession(r, id)
	if !ok {
		return proxy.ErrUnauthenticated
	}
	u, err := s.userByToken(r.Context(), gr.token)
	if err != nil {
		return proxy.ErrUnauthenticated
	}
	if o, _ := s.cfg.NotebookOrigins(); !originAllowed(r, o.Origin(id)) {
		return proxy.ErrForbidden
	}
	if u.Username != owner && !u.Admin {
		return proxy.ErrForbidden
	}
	s.auditAdminAccess(r, u, id, owner)
	return nil
}

// originAllowed is true for safe requests and for others whose Origin (or
// Referer) is want.
func originAllowed(r *http.Request, want string) bool {
	origin, check := checkedOrigin(r)
	return !check || strings.EqualFold(origin, want)
}

// handsOff is true when /proxy/<id>/ names a notebook whose server runs;
// the bridge's own pages about a notebook that is not running stay on the
// bridge's origin.
func (s *Server) handsOff(r *http.Request) bool {
	rt, ok := s.routes.Get(proxyID(r))
	return ok && rt.Target != nil
}

// proxyID is the notebook id a /proxy/<id>/... path names.
func proxyID(r *http.Request) string {
	id, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/proxy/"), "/")
	return id
}

// startHandoff answers a browser that opened /proxy/<id>/ on the bridge's
// origin with its session cookie: after the usual ownership check it is
// sent to the notebook's origin with a one-time code. Only page loads are
// handed off; anything else with the cookie is refused, since a notebook's
// pages live on its own origin.
func (s *Server) startHandoff(w http.ResponseWriter, r *http.Request, o siteconfig.OriginTemplate) {
	id := proxyID(r)
	tok := s.credential(r)
	u, err := s.userByToken(r.Context(), tok)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "not logged in: log in to the WebUI first")
		return
	}
	t, err := s.store.GetTask(r.Context(), id)
	if err != nil || (t.Owner != u.Username && !u.Admin) {
		writeError(w, http.StatusNotFound, "notebook "+id+" not found")
		return
	}
	if !navigation(r) {
		writeError(w, http.StatusForbidden, "notebook "+id+" is served at "+o.Origin(id)+"; open it there")
		return
	}
	code, err := s.grants.addCode(nbGrant{task: id, token: tok, expires: time.Now().Add(handoffTTL)})
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	next := r.URL.Path
	if r.URL.RawQuery != "" {
		next += "?" + r.URL.RawQuery
	}
	loc := o.Origin(id) + handoffPath + "?" + url.Values{"code": {code}, "next": {next}}.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, loc, http.StatusSeeOther)
}

// navigation is true for a browser's page load (or a client that says
// nothing of what it fetches): only those are handed off, so a page cannot
// sign its visitor in to another notebook with a background request.
func navigation(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead || strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	mode, dest := r.Header.Get("Sec-Fetch-Mode"), r.Header.Get("Sec-Fetch-Dest")
	return (mode == "" || mode == "navigate") && (dest == "" || dest == "document")
}

// finishHandoff trades a hand-off code for notebook id's session cookie and
// sends the browser on to the page it asked for.
func (s *Server) finishHandoff(w http.ResponseWriter, r *http.Request, id string) {
	gr, ok := s.grants.redeem(r.URL.Query().Get("code"))
	if !ok || gr.task != id {
		writeError(w, http.StatusForbidden, "this sign-in link is used up or expired; open the notebook again from the WebUI or the CLI's link")
		return
	}
	if _, err := s.userByToken(r.Context(), gr.token); err != nil {
		writeError(w, http.StatusUnauthorized, "your session ended; log in again")
		return
	}
	key, err := s.grants.addSession(nbGrant{task: id, token: gr.token, expires: time.Now().Add(nbSessionTTL)})
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(NotebookCookie), Value: key, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.https(), MaxAge: int(nbSessionTTL.Seconds())})
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/proxy/"+id+"/") {
		next = "/proxy/" + id + "/"
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// browserSession is true when a request to the bridge's origin is
// authenticated by the session cookie rather than a bearer token.
func (s *Server) browserSession(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		return false
	}
	return len(r.CookiesNamed(s.cookieName(CookieName))) > 0
}

// ownerOnly refuses a browser session on the bridge's origin that is not
// the notebook's owner: in path mode a notebook's pages share the bridge's
// origin, so an admin's browser must never run them.
func (s *Server) ownerOnly(r *http.Request, u *store.User, owner string) error {
	if s.browserSession(r) && u.Username != owner {
		return proxy.ErrForbidden
	}
	return nil
}
