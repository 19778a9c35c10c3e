package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// browserIdleTimeout is the idle_timeout of the forgotten-tab tests: long
// enough for JupyterLab's own polls (every few seconds) to have had every
// chance to keep the notebook alive.
const browserIdleTimeout = 20 * time.Second

// devHeartbeat is heartbeat_interval in site-configs/devcluster.yaml.
const devHeartbeat = 2 * time.Second

// openLab logs in to the WebUI in a fresh headless Chromium, opens the
// notebook's JupyterLab (handed off to its own origin), makes a new
// notebook and waits for its kernel to be idle, with the file browser
// showing the working folder. It returns the tab and a record of the
// requests the page sends.
func openLab(t *testing.T, id string) (*tab, *requestLog) {
	t.Helper()
	b := browser(t)
	reqs := &requestLog{}
	go func() {
		for e, err := range chromedp.Events(b.ctx, network.RequestWillBeSent) {
			if err != nil {
				return
			}
			reqs.add(e.Request.Method + " " + e.Request.URL)
		}
	}()
	go func() {
		for e, err := range chromedp.Events(b.ctx, network.WebSocketFrameSent) {
			if err != nil {
				return
			}
			reqs.add("WS> " + firstBytes(string(e.Response.PayloadData)))
		}
	}()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("watch the page's requests: %v", err)
	}
	b.do("open the WebUI", time.Minute, chromedp.Navigate(master+"/"), chromedp.WaitVisible(css("#login-user")))
	b.do("log in", 30*time.Second,
		chromedp.SendKeys(css("#login-user"), "determined"),
		chromedp.Click(css("form.login button[type=submit]")),
		chromedp.WaitVisible(css("#launch-button")))
	b.do("open JupyterLab", 2*time.Minute, chromedp.Navigate(master+"/proxy/"+id+"/lab"),
		chromedp.WaitVisible(css(`.jp-LauncherCard[data-category="Notebook"]`)))
	b.do("new notebook", time.Minute,
		chromedp.Click(css(`.jp-LauncherCard[data-category="Notebook"]`)),
		chromedp.WaitVisible(css(`.jp-NotebookPanel .jp-Cell .cm-content`)))
	b.until("the kernel is idle", 2*time.Minute, `/\(ipykernel\) \| Idle/.test(document.body.innerText)`)
	b.until("the file browser shows the working folder", 30*time.Second, `document.querySelectorAll(".jp-DirListing-item").length > 0`)
	return b, reqs
}

// requestLog keeps what a page sent, for the failure message.
type requestLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *requestLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, time.Now().Format("15:04:05.000")+" "+s)
}

// since returns what was sent after t0, a line each.
func (l *requestLog) since(t0 time.Time) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, s := range l.seen {
		if s[:12] >= t0.Format("15:04:05.000") {
			b.WriteString("  " + s + "\n")
		}
	}
	return b.String()
}

func firstBytes(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

func browserIdleCfg() map[string]any {
	return map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu"},
		"idle_timeout": browserIdleTimeout.String(), "notebook_idle_type": "activity"}
}

// TestIdleForgottenTab: a JupyterLab tab left open, with a notebook open,
// its kernel idle and the file browser showing the working folder, does
// not keep the notebook alive: what JupyterLab does by itself is not use.
// It is cancelled within its idle timeout plus two ticks (of the dev
// cluster's heartbeat, 2 s, the longer of its two: the reaper looks every
// second).
func TestIdleForgottenTab(t *testing.T) {
	c := cluster(t)
	nb := start(t, c, browserIdleCfg())
	waitState(t, c, nb.ID, api.StateRunning, startWithin)
	_, reqs := openLab(t, nb.ID)
	left := time.Now() // the person walks away
	within := browserIdleTimeout + 2*devHeartbeat
	for {
		n, err := c.Notebook(ctxT(t, 10*time.Second), nb.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n.State == api.StateTerminating || n.State == api.StateTerminated {
			if !strings.HasPrefix(n.Reason, "idle for more than") {
				t.Fatalf("ended with reason %q, want idle", n.Reason)
			}
			t.Logf("cancelled %s after the tab was left", time.Since(left).Round(100*time.Millisecond))
			return
		}
		if time.Since(left) > within {
			t.Fatalf("still %s %s after %s with only a forgotten tab; the page sent:\n%s", n.State, n.Reason, within, reqs.since(left))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestIdleTabInUse: the same tab, with a person typing and running a cell
// every few seconds, keeps the notebook alive well past its idle timeout.
func TestIdleTabInUse(t *testing.T) {
	c := cluster(t)
	nb := start(t, c, browserIdleCfg())
	waitState(t, c, nb.ID, api.StateRunning, startWithin)
	b, _ := openLab(t, nb.ID)
	cell := css(`.jp-NotebookPanel .jp-Cell:last-child .cm-content`)
	end := time.Now().Add(2*browserIdleTimeout + 5*time.Second)
	for i := 0; time.Now().Before(end); i++ {
		b.do("type and run a cell", 30*time.Second, chromedp.Click(cell), chromedp.KeyEvent(fmt.Sprintf("%d+1", i)),
			chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierShift)))
		assertRunning(t, c, nb.ID, "a person runs a cell every few seconds")
		time.Sleep(4 * time.Second)
	}
}

func assertRunning(t *testing.T, c *client.Client, id, why string) {
	t.Helper()
	n, err := c.Notebook(ctxT(t, 10*time.Second), id)
	if err != nil {
		t.Fatal(err)
	}
	if n.State != api.StateRunning {
		t.Fatalf("%s, yet the notebook is %s (%s)", why, n.State, n.Reason)
	}
}
