package bridge

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/proxy"
)

// hostileServer plays a notebook server whose owner controls what it
// sends: its token in the page, its own cookies, and a try at the bridge's
// session cookie. It records the cookies it is sent.
func hostileServer(t *testing.T, token string, seen *[]string) *url.URL {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*seen = append(*seen, r.Header.Get("Cookie"))
		if r.Header.Get("Authorization") != "token "+token {
			http.Error(w, "no token", http.StatusForbidden)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "fixated", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "username-node-8888", Value: "jupyter-login", Path: "/"})
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<script id="jupyter-config-data">{"token": "`+token+`"}</script>`)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u
}

func (h *harness) raw(method, host, path string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	r.Host = host
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, r)
	return w
}

func cookieOf(w *httptest.ResponseRecorder, name string) string {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// TestNotebookOrigin: a browser session on the bridge's origin is handed
// off to the notebook's own origin with a one-time code; that origin
// serves the notebook only, with a cookie that opens that notebook only,
// and what the notebook sends carries neither its token nor its cookies.
func TestNotebookOrigin(t *testing.T) {
	h := newHarnessWith(t, "external_url: http://127.0.0.1:8080\nnotebook_origin: http://{id}.nb.localhost:8080\n")
	nb := h.start(nil)
	other := h.start(nil)
	task, _ := h.srv.store.GetTask(context.Background(), nb.ID)
	var seen []string
	h.srv.Routes().Set(nb.ID, proxy.Route{Target: hostileServer(t, task.JupyterToken, &seen), Token: task.JupyterToken, Owner: "determined", State: api.StateRunning})
	session := map[string]string{"Cookie": CookieName + "=" + h.token}
	nbHost := nb.ID + ".nb.localhost:8080"

	w := h.raw("GET", "127.0.0.1:8080", "/proxy/"+nb.ID+"/lab?x=1", session)
	loc, _ := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusSeeOther || loc == nil || loc.Host != nbHost || loc.Path != handoffPath {
		t.Fatalf("hand-off: %d %q", w.Code, w.Header().Get("Location"))
	}
	if strings.Contains(loc.String(), h.token) {
		t.Fatal("the bridge token travels in the hand-off")
	}
	if w := h.raw("POST", "127.0.0.1:8080", "/proxy/"+nb.ID+"/api/kernels", map[string]string{"Cookie": session["Cookie"], "Origin": "http://127.0.0.1:8080"}); w.Code != http.StatusForbidden {
		t.Errorf("a POST with the session cookie on the bridge's origin: %d", w.Code)
	}

	w = h.raw("GET", nbHost, loc.RequestURI(), nil)
	nbCookie := cookieOf(w, NotebookCookie)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/proxy/"+nb.ID+"/lab?x=1" || nbCookie == "" {
		t.Fatalf("hand-off end: %d %q cookie %q", w.Code, w.Header().Get("Location"), nbCookie)
	}
	if w := h.raw("GET", nbHost, loc.RequestURI(), nil); w.Code != http.StatusForbidden {
		t.Errorf("a hand-off code worked twice: %d", w.Code)
	}
	if w := h.raw("GET", other.ID+".nb.localhost:8080", loc.RequestURI(), nil); w.Code != http.StatusForbidden {
		t.Errorf("a code for one notebook opened another's origin: %d", w.Code)
	}

	nbSession := map[string]string{"Cookie": NotebookCookie + "=" + nbCookie + "; " + CookieName + "=" + h.token}
	w = h.raw("GET", nbHost, "/proxy/"+nb.ID+"/lab", nbSession)
	if w.Code != http.StatusOK {
		t.Fatalf("notebook page: %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), task.JupyterToken) || len(w.Result().Cookies()) != 0 {
		t.Errorf("the browser got the token or the server's cookies: %q %v", w.Body, w.Result().Cookies())
	}
	if got := seen[len(seen)-1]; got != "" {
		t.Errorf("the notebook server was sent cookies %q", got)
	}
	for _, p := range []string{"/api/v1/me", "/api/v1/users", "/det/", "/proxy/" + other.ID + "/lab"} {
		if w := h.raw("GET", nbHost, p, nbSession); w.Code != http.StatusNotFound {
			t.Errorf("GET %s on a notebook origin: %d", p, w.Code)
		}
	}
	if w := h.raw("GET", other.ID+".nb.localhost:8080", "/proxy/"+other.ID+"/api/contents", map[string]string{"Cookie": nbSession["Cookie"], "Sec-Fetch-Mode": "cors"}); w.Code != http.StatusUnauthorized {
		t.Errorf("one notebook's cookie opened another: %d", w.Code)
	}
	// A page load there without its session goes to sign in again, through
	// the bridge's origin.
	if w := h.raw("GET", other.ID+".nb.localhost:8080", "/proxy/"+other.ID+"/lab", nbSession); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "http://127.0.0.1:8080/proxy/"+other.ID+"/lab" {
		t.Errorf("a page load without a session: %d %q", w.Code, w.Header().Get("Location"))
	}
	// A cookie tossed in by a sibling host makes two: neither counts.
	tossed := map[string]string{"Cookie": NotebookCookie + "=forged; " + nbSession["Cookie"], "Sec-Fetch-Mode": "cors"}
	if w := h.raw("GET", nbHost, "/proxy/"+nb.ID+"/lab", tossed); w.Code != http.StatusUnauthorized {
		t.Errorf("a doubled notebook cookie: %d", w.Code)
	}
	if w := h.raw("GET", "127.0.0.1:8080", "/api/v1/me", map[string]string{"Cookie": CookieName + "=forged; " + CookieName + "=" + h.token}); w.Code != http.StatusUnauthorized {
		t.Errorf("a doubled session cookie: %d", w.Code)
	}
	if w := h.raw("GET", "x."+nb.ID+".nb.localhost:8080", "/api/v1/me", session); w.Code != http.StatusMisdirectedRequest {
		t.Errorf("a host under the notebook domain that names no notebook: %d", w.Code)
	}
	// A background request from a page does not sign its visitor in.
	if w := h.raw("GET", "127.0.0.1:8080", "/proxy/"+nb.ID+"/lab", map[string]string{"Cookie": session["Cookie"], "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}); w.Code != http.StatusForbidden {
		t.Errorf("a hand-off for an image fetch: %d", w.Code)
	}
	// A second hand-off reuses the notebook session.
	w2 := h.raw("GET", "127.0.0.1:8080", "/proxy/"+nb.ID+"/", session)
	loc2, _ := url.Parse(w2.Header().Get("Location"))
	if again := cookieOf(h.raw("GET", nbHost, loc2.RequestURI(), nil), NotebookCookie); again != nbCookie {
		t.Errorf("a second hand-off made another session")
	}
	// A login sent by a notebook's page is refused.
	if w := h.raw("POST", "127.0.0.1:8080", "/api/v1/auth/login", map[string]string{"Origin": "http://" + nbHost}); w.Code != http.StatusForbidden {
		t.Errorf("a login from a notebook's page: %d", w.Code)
	}
	sibling := map[string]string{"Cookie": nbSession["Cookie"], "Origin": "http://" + other.ID + ".nb.localhost:8080"}
	if w := h.raw("POST", nbHost, "/proxy/"+nb.ID+"/api/kernels", sibling); w.Code != http.StatusForbidden {
		t.Errorf("a sibling notebook origin's POST: %d", w.Code)
	}
	own := map[string]string{"Cookie": nbSession["Cookie"], "Origin": "http://" + nbHost}
	if w := h.raw("POST", nbHost, "/proxy/"+nb.ID+"/api/kernels", own); w.Code != http.StatusOK {
		t.Errorf("the notebook's own POST: %d %s", w.Code, w.Body)
	}

	h.do("POST", "/api/v1/auth/logout", nil, nil, http.StatusOK)
	if w := h.raw("GET", nbHost, "/proxy/"+nb.ID+"/lab", nbSession); w.Code != http.StatusUnauthorized {
		t.Errorf("a notebook cookie outlived its session's logout: %d", w.Code)
	}
}

// TestPathModeOwnerOnly: without notebook origins a browser session of an
// admin does not open a user's notebook (its pages share the bridge's
// origin); the owner's does, and an admin's bearer token does.
func TestPathModeOwnerOnly(t *testing.T) {
	h := newHarness(t)
	nb := h.start(nil)
	task, _ := h.srv.store.GetTask(context.Background(), nb.ID)
	var seen []string
	h.srv.Routes().Set(nb.ID, proxy.Route{Target: hostileServer(t, task.JupyterToken, &seen), Token: task.JupyterToken, Owner: "determined", State: api.StateRunning})
	owner := h.token
	h.token = ""
	var lr api.LoginResponse
	h.do("POST", "/api/v1/auth/login", api.LoginRequest{Username: "admin"}, &lr, 200)
	path := "/proxy/" + nb.ID + "/lab"
	if w := h.raw("GET", "127.0.0.1:8080", path, map[string]string{"Cookie": CookieName + "=" + lr.Token}); w.Code != http.StatusForbidden {
		t.Errorf("an admin's browser opened a user's notebook: %d", w.Code)
	}
	if w := h.raw("GET", "127.0.0.1:8080", path, map[string]string{"Authorization": "Bearer " + lr.Token}); w.Code != http.StatusOK {
		t.Errorf("an admin's bearer token: %d", w.Code)
	}
	w := h.raw("GET", "127.0.0.1:8080", path, map[string]string{"Cookie": CookieName + "=" + owner})
	if w.Code != http.StatusOK || len(w.Result().Cookies()) != 0 || strings.Contains(w.Body.String(), task.JupyterToken) {
		t.Errorf("owner's page: %d cookies %v", w.Code, w.Result().Cookies())
	}
}
