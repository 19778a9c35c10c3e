package bridge

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/bridge/webui"
	"github.com/det-slurm/bridge/proxy"
)

// CookieName is the WebUI's session cookie; the proxy strips it before
// forwarding.
const CookieName = "det_token"

const tokenTTL = 7 * 24 * time.Hour

type ctxKey struct{}

// Handler returns the bridge's HTTP routes. Paths under /proxy/ go straight
// to the proxy, ahead of the router: they are most of the traffic, and the
// router's matching and per-request copies cost a proxied request a tenth of
// its time.
func (s *Server) Handler() http.Handler {
	ph := s.metrics.Proxy(proxy.New(s.routes, proxy.Options{
		Authorize:    s.authorizeProxy,
		StripCookies: []string{CookieName, NotebookCookie, secureCookie(CookieName), secureCookie(NotebookCookie)},
		Logger:       s.log.With("component", "proxy"),
	}))
	r := s.router()
	origins, originMode := s.cfg.NotebookOrigins()
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !guardRequest(w, req) {
			return
		}
		if id, ok := s.notebookHost(req); ok {
			s.serveNotebookOrigin(w, req, id, ph)
			return
		}
		if s.misdirected(req) {
			writeError(w, http.StatusMisdirectedRequest, "no notebook has the host "+req.Host)
			return
		}
		if strings.HasPrefix(req.URL.Path, "/proxy/") {
			if id, ok := sshShellID(req); ok && s.serveShellSSH(w, req, id) {
				return
			}
			if originMode && s.browserSession(req) && s.handsOff(req) {
				s.startHandoff(w, req, origins)
				return
			}
			ph.ServeHTTP(w, req)
			return
		}
		r.ServeHTTP(w, req)
	})
}

// router serves everything but the proxy: the API and the WebUI.
func (s *Server) router() *mux.Router {
	// Never clean a path with a redirect: guardRequest refuses the paths
	// that cleaning would change in meaning, and any other unclean path
	// is simply not a route.
	r := mux.NewRouter().SkipClean(true)
	v1 := r.PathPrefix("/api/v1").Subrouter()
	v1.Use(noStore)
	v1.HandleFunc("/auth/login", s.handleLogin).Methods(http.MethodPost)
	v1.HandleFunc("/auth/munge", s.handleMungeLogin).Methods(http.MethodPost)
	v1.HandleFunc("/tasks/{id}/ready", s.handleReady).Methods(http.MethodPost)
	v1.HandleFunc("/tasks/{id}/exit", s.handleExit).Methods(http.MethodPost)
	v1.HandleFunc("/tasks/{id}/heartbeat", s.handleHeartbeat).Methods(http.MethodPost)
	v1.HandleFunc("/tasks/{id}/tunnel", s.handleTunnel).Methods(http.MethodGet)

	authed := v1.NewRoute().Subrouter()
	authed.Use(s.requireUser)
	authed.HandleFunc("/auth/logout", s.handleLogout).Methods(http.MethodPost)
	authed.HandleFunc("/me", s.handleMe).Methods(http.MethodGet)
	authed.HandleFunc("/me/settings", s.handleGetSettings).Methods(http.MethodGet)
	authed.HandleFunc("/me/settings", s.handlePutSettings).Methods(http.MethodPut)
	authed.HandleFunc("/users", s.handleListUsers).Methods(http.MethodGet)
	authed.HandleFunc("/users/{id:[0-9]+}", s.handleGetUser).Methods(http.MethodGet)
	authed.HandleFunc("/users/{name}/by-username", s.handleGetUserByName).Methods(http.MethodGet)
	// Routes that manage users, passwords or tokens: never with a task's
	// token (DET_USER_TOKEN in a notebook, which code in it can read).
	account := authed.NewRoute().Subrouter()
	account.Use(refuseTaskTokens)
	account.HandleFunc("/users", s.handleCreateUser).Methods(http.MethodPost)
	account.HandleFunc("/users/{id:[0-9]+}", s.handlePatchUser).Methods(http.MethodPatch)
	// The audit trail (admins only), under the same rule. A subrouter of
	// its own: in one subrouter, a later route of another path hides an
	// earlier one's 405.
	trail := authed.NewRoute().Subrouter()
	trail.Use(refuseTaskTokens)
	trail.HandleFunc("/audit", s.handleAudit).Methods(http.MethodGet)
	// Admin routes: admins only, and never with a task's token either.
	admin := authed.PathPrefix("/admin").Subrouter()
	admin.Use(refuseTaskTokens, adminOnly)
	admin.HandleFunc("/usage", s.handleUsage).Methods(http.MethodGet)
	authed.HandleFunc("/master", s.handleMaster).Methods(http.MethodGet)
	authed.HandleFunc("/resource-pools", s.handlePools).Methods(http.MethodGet)
	for _, k := range []struct{ path, typ string }{{"/notebooks", typeNotebook}, {"/shells", typeShell}} {
		authed.HandleFunc(k.path, s.handleLaunch(k.typ)).Methods(http.MethodPost)
		authed.HandleFunc(k.path, s.handleList(k.typ)).Methods(http.MethodGet)
		authed.HandleFunc(k.path+"/{id}", s.handleGet(k.typ)).Methods(http.MethodGet)
		authed.HandleFunc(k.path+"/{id}/kill", s.handleKill(k.typ)).Methods(http.MethodPost)
		authed.HandleFunc(k.path+"/{id}/extend", s.handleExtend(k.typ)).Methods(http.MethodPost)
		authed.HandleFunc(k.path+"/{id}/relaunch", s.handleRelaunch(k.typ)).Methods(http.MethodPost)
	}
	authed.HandleFunc("/tasks", s.handleTasks).Methods(http.MethodGet)
	authed.HandleFunc("/tasks/{id}", s.handleGetTask).Methods(http.MethodGet)
	authed.HandleFunc("/tasks/{id}/logs", s.handleLogs).Methods(http.MethodGet)
	s.routeOtherKinds(authed)
	authed.HandleFunc("/agents", s.handleAgents).Methods(http.MethodGet)
	authed.HandleFunc("/agents/{agentId}", s.handleAgent).Methods(http.MethodGet)
	authed.HandleFunc("/agents/{agentId}/slots", s.handleSlots).Methods(http.MethodGet)
	authed.HandleFunc("/agents/{agentId}/slots/{slotId}", s.handleSlot).Methods(http.MethodGet)
	authed.HandleFunc("/workspaces", s.handleWorkspaces).Methods(http.MethodGet)
	authed.HandleFunc("/workspaces/{id}", s.handleWorkspace).Methods(http.MethodGet)

	r.HandleFunc("/info", s.handleInfo).Methods(http.MethodGet)
	r.Handle("/metrics", s.requireUser(refuseTaskTokens(http.HandlerFunc(s.handleMetrics)))).Methods(http.MethodGet)
	r.PathPrefix("/det/").Handler(webui.Handler())
	r.Handle("/", http.RedirectHandler("/det/", http.StatusFound))
	r.Handle("/det", http.RedirectHandler("/det/", http.StatusFound))
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such route: "+r.URL.Path)
	})
	notAllowed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, r.Method+" is not a method of "+r.URL.Path)
	})
	for _, sr := range []*mux.Router{r, v1, authed, account, trail, admin} {
		sr.MethodNotAllowedHandler = notAllowed
	}
	return r
}

// credential returns the bridge token a request carries, from the
// Authorization header or the session cookie. Under https the cookie is
// __Host-det_token, which no other host (a notebook origin of the same
// site included) can set for the bridge; without https, a request that
// carries the cookie twice (one of them set by another host of the site)
// has none.
func (s *Server) credential(r *http.Request) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimPrefix(h, "Bearer ")
	}
	if cs := r.CookiesNamed(s.cookieName(CookieName)); len(cs) == 1 {
		return cs[0].Value
	}
	return ""
}

// cookieName is the name a cookie of the bridge's has on this site: with
// the __Host- prefix under https.
func (s *Server) cookieName(base string) string {
	if s.https() {
		return secureCookie(base)
	}
	return base
}

// sessionOf returns the session a request's credential belongs to.
func (s *Server) sessionOf(r *http.Request) (*store.Session, error) {
	tok := s.credential(r)
	if tok == "" {
		return nil, store.ErrNotFound
	}
	return s.sessionByToken(r.Context(), tok)
}

func secureCookie(base string) string { return "__Host-" + base }

// noStore keeps the API's answers (tokens, shells' private keys) out of
// every cache.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) https() bool {
	return strings.HasPrefix(strings.ToLower(s.cfg.ExternalURL), "https://")
}

func (s *Server) userOf(r *http.Request) (*store.User, error) {
	ses, err := s.sessionOf(r)
	if err != nil {
		return nil, err
	}
	return ses.User, nil
}

func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ses, err := s.sessionOf(r)
		if err != nil {
			writeError(w, http.StatusUnauthorized, "not logged in: run `det user login` (or set DET_USER and DET_PASS)")
			return
		}
		if !s.sameOrigin(r) {
			writeError(w, http.StatusForbidden, "cross-site request refused")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ses)))
	})
}

// currentSession is the session of a request that passed requireUser.
func currentSession(r *http.Request) *store.Session {
	return r.Context().Value(ctxKey{}).(*store.Session)
}

func currentUser(r *http.Request) *store.User { return currentSession(r).User }

// refuseTaskTokens guards the routes that manage users, passwords and
// tokens, the audit trail and the admin routes: a token made for a task
// may not use them.
func refuseTaskTokens(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentSession(r).TaskID != "" {
			writeError(w, http.StatusForbidden, "a notebook's or shell's token (DET_USER_TOKEN) may not manage users, passwords or tokens, nor read the audit trail or use the admin routes; do this from your own login (`det user login`)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorizeProxy admits the notebook's owner, or an admin with a bearer
// token (recorded in the audit trail); a browser session on the bridge's
// origin reaches only its own notebooks. On a notebook's own origin its
// session cookie decides.
func (s *Server) authorizeProxy(r *http.Request, owner string) error {
	if id, ok := s.notebookHost(r); ok {
		return s.authorizeNotebookOrigin(r, id, owner)
	}
	u, err := s.userOf(r)
	if err != nil {
		return proxy.ErrUnauthenticated
	}
	if !s.sameOrigin(r) {
		return proxy.ErrForbidden
	}
	if u.Username != owner && !u.Admin {
		return proxy.ErrForbidden
	}
	if err := s.ownerOnly(r, u, owner); err != nil {
		return err
	}
	s.auditAdminAccess(r, u, proxyID(r), owner)
	return nil
}

// sessionCookie is the WebUI's session cookie holding tok (maxAge < 0
// deletes it): HttpOnly, SameSite=Lax, and Secure when the bridge's
// external URL is https.
func (s *Server) sessionCookie(tok string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: s.cookieName(CookieName), Value: tok, Path: "/", MaxAge: maxAge, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.https()}
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	return readJSONLimit(w, r, v, 1<<20)
}

// readJSONLimit decodes a body of at most limit bytes into v. A body
// declared larger is refused (413) before any of it is read.
func readJSONLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	if bodyOverLimit(w, r, limit) {
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	if err := dec.Decode(v); err != nil {
		if tooLargeError(w, err) {
			return false
		}
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with HTTP status code and the API's error body
// (Determined's shape) holding msg.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, api.NewError(code, msg))
}

func (s *Server) internal(w http.ResponseWriter, what string, err error) {
	s.log.Error(what, "err", err)
	writeError(w, http.StatusInternalServerError, what+" failed; the bridge's log has the details")
}

// loginOrigin refuses a login that a page of another origin sent (a
// notebook's pages among them): it would set the bridge's session cookie
// to an account of that page's choosing. Clients that are not browsers
// send no Origin and pass.
func (s *Server) loginOrigin(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || s.ownOrigin(r, origin) {
		return true
	}
	writeError(w, http.StatusForbidden, "a login from a page of "+origin+" is refused; log in on the bridge's own pages")
	return false
}

// externalOrigin is the browser origin of external_url (scheme and host).
func (s *Server) externalOrigin() string {
	if u, err := url.Parse(s.cfg.ExternalURL); err == nil {
		return u.Scheme + "://" + u.Host
	}
	return s.cfg.ExternalURL // the config check refuses a URL that does not parse
}

// ownOrigin is true when origin is the bridge's own.
func (s *Server) ownOrigin(r *http.Request, origin string) bool {
	if strings.EqualFold(origin, s.externalOrigin()) {
		return true
	}
	return strings.EqualFold(origin, "http://"+r.Host) || strings.EqualFold(origin, "https://"+r.Host)
}

// sameOrigin guards cookie sessions against cross-site requests: a request
// authenticated by the cookie that changes state (or opens a websocket)
// must come from the bridge's own pages. Bearer-token requests cannot be
// forged by another site and pass.
func (s *Server) sameOrigin(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		return true
	}
	origin, check := checkedOrigin(r)
	return !check || origin != "" && s.ownOrigin(r, origin)
}

// checkedOrigin says whether r must come from a known origin (it changes
// state or opens a websocket) and returns its Origin, or its Referer's.
func checkedOrigin(r *http.Request) (origin string, check bool) {
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions
	if safe && !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return "", false
	}
	origin = r.Header.Get("Origin")
	if origin == "" {
		if ref, err := url.Parse(r.Header.Get("Referer")); err == nil && ref.Host != "" {
			origin = ref.Scheme + "://" + ref.Host
		}
	}
	return origin, true
}
