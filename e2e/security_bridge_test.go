package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
	"github.com/det-slurm/bridge/taskconfig"
)

// The attacker cases of the bridge's own files and origin: items 1 to 4.
var (
	_ = addSecCase(1, "job-folder-links-and-fifos", testJobFolderLinks)
	_ = addSecCase(2, "job-folder-cannot-be-swapped", testJobFolderSwap)
	_ = addSecCase(3, "notebook-page-cannot-use-admin-session", testNotebookOrigin)
	_ = addSecCase(4, "no-jupyter-token-or-cookie-reaches-browser", testNoJupyterSecrets)
	_ = addSecCase(10, "kernels-listen-on-no-port", testKernelsOnIPC)
	_ = addSecCase(7, "bind-mount-under-root-only-folder", testBindUnderRootOnly)
)

func randomWord(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// jobDir is a task's job folder on the dev cluster.
func jobDir(posix, id string) string { return filepath.Join(state, "jobs", posix, id) }

// testJobFolderLinks: while her notebook's startup hook runs, alice
// replaces output.log in her own job folder with a link to a root-only
// canary, plants a FIFO as exit.json and makes the folder read-only so the
// launcher cannot replace them; then the hook fails. The bridge (root) must
// show none of the canary in the logs or in the failure's reason, and its
// reconcile loop must not hang on the FIFO.
func testJobFolderLinks(t *testing.T) {
	alice := asUser(t, "alice")
	word := randomWord(t)
	canary := filepath.Join("/root", "det-canary-"+word)
	secret := "CANARY-" + word
	if err := os.WriteFile(canary, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(canary) })
	ctxDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "startup-hook.sh"), []byte("sleep 12\nexit 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, _, err := taskconfig.ContextFiles(ctxDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := alice.StartNotebook(ctxT(t, time.Minute), cpuNotebook(), files)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = alice.KillNotebook(context.Background(), nb.ID) })
	waitState(t, alice, nb.ID, api.StateStarting, startWithin)
	dir := jobDir("alice", nb.ID)
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	for _, cmd := range [][]string{
		{"ln", "-sf", canary, filepath.Join(dir, "output.log")},
		{"mkfifo", filepath.Join(dir, "exit.json")},
		{"chmod", "0500", dir},
	} {
		if out, err := runAs(t, "alice", cmd[0], cmd[1:]...); err != nil {
			t.Fatalf("alice: %s: %v\n%s", strings.Join(cmd, " "), err, out)
		}
	}
	got := waitState(t, alice, nb.ID, api.StateTerminated, 90*time.Second)
	logs := logsOf(alice, nb.ID)
	if strings.Contains(got.Reason, secret) || strings.Contains(logs, secret) {
		t.Fatalf("the bridge read the root-only canary through alice's link:\nreason: %s\nlogs:\n%s", got.Reason, logs)
	}
	t.Logf("reason: %s", got.Reason)
	// The bridge still serves and reconciles for everyone.
	other := start(t, alice, cpuNotebook())
	waitState(t, alice, other.ID, api.StateRunning, startWithin)
}

// testJobFolderSwap: alice cannot create, rename or replace anything in her
// user folder, so no job folder can be swapped for a link while the bridge
// writes it; what the bridge wrote is hers, with the expected modes.
func testJobFolderSwap(t *testing.T) {
	alice := asUser(t, "alice")
	nb := start(t, alice, cpuNotebook())
	userDir := filepath.Join(state, "jobs", "alice")
	for _, cmd := range [][]string{
		{"mv", jobDir("alice", nb.ID), filepath.Join(userDir, "moved")},
		{"ln", "-s", "/etc", filepath.Join(userDir, "next-task")},
		{"mkdir", filepath.Join(userDir, "planted")},
	} {
		if out, err := runAs(t, "alice", cmd[0], cmd[1:]...); err == nil {
			t.Errorf("alice could %s in her user folder:\n%s", strings.Join(cmd, " "), out)
		}
	}
	st, err := os.Lstat(userDir)
	if err != nil {
		t.Fatal(err)
	}
	if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 0 || st.Mode().Perm()&0o022 != 0 {
		t.Errorf("user folder: owner %d mode %v, want root's and writable by root alone", sys.Uid, st.Mode())
	}
	for name, mode := range map[string]os.FileMode{"": 0o700, "task.json": 0o600, "job.sh": 0o700} {
		st, err := os.Lstat(filepath.Join(jobDir("alice", nb.ID), name))
		if err != nil {
			t.Fatal(err)
		}
		if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 2001 || st.Mode().Perm() != mode || st.Mode()&os.ModeSymlink != 0 {
			t.Errorf("%s: owner %d mode %v, want alice's with %v", "job folder/"+name, sys.Uid, st.Mode(), mode)
		}
	}
}

// testNotebookOrigin: an admin opens alice's running notebook in a real
// browser. Script in the notebook's pages (played here by evaluating it in
// the page) tries to create an admin with the admin's session, on the
// notebook's origin and on the bridge's; no user is created, and the page
// is on an origin of its own.
func testNotebookOrigin(t *testing.T) {
	alice := asUser(t, "alice")
	nb := start(t, alice, cpuNotebook())
	waitState(t, alice, nb.ID, api.StateRunning, startWithin)
	b := browser(t)
	b.do("open the WebUI", time.Minute, chromedp.Navigate(master+"/"), chromedp.WaitVisible(css("#login-user")))
	b.do("log in as admin", 30*time.Second,
		chromedp.SendKeys(css("#login-user"), "admin"),
		chromedp.Click(css("form.login button[type=submit]")),
		chromedp.WaitVisible(css("#launch-button")))
	b.do("open alice's notebook", time.Minute, chromedp.Navigate(master+"/proxy/"+nb.ID+"/api/status"))
	b.until("the notebook answers", 30*time.Second, `document.body.innerText.includes("started")`)
	origin := eval[string](b, `location.origin`)
	if want := "http://" + nb.ID + ".nb.localhost:8080"; origin != want {
		t.Fatalf("the notebook's page is on %s, want its own origin %s", origin, want)
	}
	if c := eval[string](b, `document.cookie`); strings.Contains(c, "det_token") {
		t.Errorf("the notebook's page sees the bridge's cookie: %q", c)
	}
	victim := "pwned-" + randomWord(t)
	body := fmt.Sprintf(`JSON.stringify({user: {username: %q, admin: true, active: true}, password: "x-Passw0rd-long"})`, victim)
	attack := `(async () => {
		const out = [];
		for (const [url, ct] of [[` + js(client.Path("users")) + `, "application/json"], [` + js(master+client.Path("users")) + `, "text/plain"], [` + js(master+client.Path("users")) + `, "application/json"]]) {
			try {
				const r = await fetch(url, {method: "POST", credentials: "include", headers: {"Content-Type": ct}, body: ` + body + `});
				out.push(url + " " + r.status);
			} catch (e) { out.push(url + " blocked"); }
		}
		try {
			const r = await fetch(` + js(master+client.Path("me")) + `, {credentials: "include"});
			out.push("me " + r.status + " " + (await r.text()));
		} catch (e) { out.push("me blocked"); }
		return out.join("\n");
	})()`
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](attack, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run the page's script: %v", err)
	}
	t.Logf("the page's attempts:\n%s", res)
	if strings.Contains(res, `"username"`) {
		t.Errorf("the page read the admin's identity from the bridge: %s", res)
	}
	rawOriginAttacks(t, nb.ID, victim)
	users, err := adminClient(t).Users(ctxT(t, 10*time.Second), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Username == victim {
			t.Fatalf("the notebook's page created user %s with the admin's session", victim)
		}
	}
}

// rawOriginAttacks sends what a notebook's page could make a browser send
// where the notebooks share the bridge's site (a production setup such as
// *.nb.example.org beside notebooks.example.org, where the browser adds the
// admin's cookie): the bridge itself must refuse it, whatever the browser
// lets through.
func rawOriginAttacks(t *testing.T, id, victim string) {
	t.Helper()
	admin := adminClient(t)
	nbOrigin := "http://" + id + ".nb.localhost:8080"
	// Every host name of this test goes to the bridge.
	hc := &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:8080")
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, url, body string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	cookie := "det_token=" + admin.Token
	for _, a := range []struct{ what, path, body string }{
		{"create an admin", client.Path("users"), fmt.Sprintf(`{"user":{"username":%q,"admin":true,"active":true},"password":"x-Passw0rd-long"}`, victim)},
		{"log the admin's browser in as determined", client.Path("auth", "login"), `{"username":"determined","password":""}`},
	} {
		if resp := send("POST", master+a.path, a.body, map[string]string{"Cookie": cookie, "Origin": nbOrigin}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a notebook page's request to %s: %d, want 403", a.what, resp.StatusCode)
		}
	}
	// The admin's hand-off to the notebook's origin, then requests that a
	// sibling notebook's page would send there with that origin's cookie.
	resp := send("GET", master+"/proxy/"+id+"/api/status", "", map[string]string{"Cookie": cookie})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, nbOrigin+"/_det/handoff?") {
		t.Fatalf("hand-off: %d %q", resp.StatusCode, loc)
	}
	resp = send("GET", loc, "", nil)
	var nbCookie string
	for _, c := range resp.Cookies() {
		if c.Name == "det_nb" {
			nbCookie = c.Name + "=" + c.Value
		}
	}
	if nbCookie == "" {
		t.Fatalf("the hand-off set no notebook cookie: %d %v", resp.StatusCode, resp.Header)
	}
	sibling := "http://00000000-0000-0000-0000-000000000000.nb.localhost:8080"
	if resp := send("POST", nbOrigin+"/proxy/"+id+"/api/kernels", `{}`, map[string]string{"Cookie": nbCookie, "Origin": sibling}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a sibling notebook's page starting a kernel here: %d, want 403", resp.StatusCode)
	}
	if resp := send("GET", nbOrigin+"/proxy/"+id+"/api/kernels", "", map[string]string{"Cookie": nbCookie, "Origin": sibling,
		"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a sibling notebook's page opening a websocket here: %d, want 403", resp.StatusCode)
	}
	if resp := send("GET", nbOrigin+client.Path("me"), "", map[string]string{"Cookie": nbCookie + "; " + cookie}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the API on a notebook's origin: %d, want 404", resp.StatusCode)
	}
}

// testNoJupyterSecrets: what the proxy sends for JupyterLab's page and API
// carries neither the notebook's Jupyter token nor any cookie of Jupyter's.
func testNoJupyterSecrets(t *testing.T) {
	alice := asUser(t, "alice")
	nb := start(t, alice, cpuNotebook())
	waitState(t, alice, nb.ID, api.StateRunning, startWithin)
	out, err := runAs(t, "alice", "cat", filepath.Join(jobDir("alice", nb.ID), "task.json"))
	if err != nil {
		t.Fatalf("read task.json as alice: %v", err)
	}
	token := jsonField(out, "jupyter_token")
	if len(token) < 16 {
		t.Fatalf("no Jupyter token in task.json: %q", out)
	}
	for _, p := range []string{"lab", "lab/tree", "tree", "api/status", "api/kernelspecs", "login", "api/me"} {
		req, _ := http.NewRequest(http.MethodGet, master+"/proxy/"+nb.ID+"/"+p, nil)
		req.Header.Set("Authorization", "Bearer "+alice.Token)
		req.Header.Set("Accept", "text/html,application/json")
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := (&http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
			t.Errorf("%s: Jupyter's cookies reach the client: %v", p, c)
		}
		for k, vs := range resp.Header {
			if strings.Contains(strings.Join(vs, " "), token) {
				t.Errorf("%s: header %s carries the Jupyter token", p, k)
			}
		}
		if strings.Contains(string(data), token) {
			t.Errorf("%s (%d, %s): the body carries the Jupyter token", p, resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
	}

	// Nor can a kernel print it: the token reaches Jupyter through a
	// config file, not the environment kernels inherit.
	k := openKernel(t, alice, nb.ID)
	if got := strings.TrimSpace(k.exec(fmt.Sprintf(`import os; print(any(%q in v for v in os.environ.values()))`, token))); got != "False" {
		t.Errorf("the kernel's environment holds the Jupyter token (%s)", got)
	}
}

// testBindUnderRootOnly: bob asks to bind a path inside a root-only folder
// under an allowed prefix. Whether it exists, the answer is the same: the
// bridge looks bind mounts up as the job's user, never as root.
func testBindUnderRootOnly(t *testing.T) {
	bob := asUser(t, "bob")
	hidden, err := os.MkdirTemp("/tmp", "det-sec-root-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(hidden) })
	if err := os.Mkdir(filepath.Join(hidden, "exists"), 0o755); err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{}
	for _, name := range []string{"exists", "missing"} {
		cfg := cpuNotebook()
		cfg["bind_mounts"] = []any{map[string]any{"host_path": filepath.Join(hidden, name), "container_path": "/data"}}
		nb, err := bob.StartNotebook(ctxT(t, time.Minute), cfg, nil)
		if err == nil {
			_, _ = bob.KillNotebook(context.Background(), nb.ID)
			t.Fatalf("bob may bind %s inside a root-only folder", name)
		}
		answers[name] = strings.ReplaceAll(err.Error(), name, "X")
	}
	if answers["exists"] != answers["missing"] {
		t.Errorf("the answers tell whether a path in a root-only folder exists:\n exists:  %s\n missing: %s", answers["exists"], answers["missing"])
	}
}

// testKernelsOnIPC: a running kernel talks to Jupyter over Unix sockets in
// the job's private folder, so no co-tenant on the node can subscribe to
// its output on a loopback port.
func testKernelsOnIPC(t *testing.T) {
	alice := asUser(t, "alice")
	nb := start(t, alice, cpuNotebook())
	waitState(t, alice, nb.ID, api.StateRunning, startWithin)
	k := openKernel(t, alice, nb.ID)
	out := k.exec(`import json, ipykernel.connect as c; print(json.load(open(c.get_connection_file()))["transport"])`)
	if got := strings.TrimSpace(out); got != "ipc" {
		t.Errorf("the kernel's transport is %q, want ipc", got)
	}
}

// jsonField returns a top-level string field of a JSON object's text.
func jsonField(text, name string) string {
	_, rest, ok := strings.Cut(text, `"`+name+`": "`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}
