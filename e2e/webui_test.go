package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// shots is where the WebUI test leaves its screenshots (git-ignored).
const shots = "testoutput"

// tab is one browser tab of the WebUI test.
type tab struct {
	t   *testing.T
	ctx context.Context
}

// browser starts Debian's chromium, headless, with a fresh profile.
func browser(t *testing.T) *tab {
	t.Helper()
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("Debian's chromium is not installed (devcluster/up.sh installs it; or apt-get install -y chromium): %v", err)
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// JupyterLab opens in a second tab: keep the tab in the background
		// rendering and its timers running.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	b := &tab{t: t, ctx: ctx}
	b.exceptions()
	return b
}

// exceptions fails the test for every uncaught JavaScript exception in
// the tab.
func (b *tab) exceptions() {
	var mu sync.Mutex
	var errs []string
	events := chromedp.Events(b.ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			mu.Lock()
			errs = append(errs, (&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
			mu.Unlock()
		}
	}()
	b.t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range errs {
			b.t.Errorf("JavaScript exception in the WebUI: %s", e)
		}
	})
}

// do runs steps within d; on failure it saves a screenshot and stops the
// test.
func (b *tab) do(what string, d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(what, err)
	}
}

// until waits up to d for the JavaScript expression to be true.
func (b *tab) until(what string, d time.Duration, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(d))); err != nil {
		b.fail(what, err)
	}
}

// try reports whether the JavaScript expression turns true within d.
func (b *tab) try(d time.Duration, expr string) bool {
	ctx, cancel := context.WithTimeout(b.ctx, d+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(d)))
	return err == nil
}

// eval returns the value of a JavaScript expression.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail("evaluate "+expr, err)
	}
	return v
}

func (b *tab) fail(what string, err error) {
	b.t.Helper()
	name := "failure-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(what))
	b.shot(name)
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	b.t.Fatalf("%s (page %s; screenshot %s/%s.png): %v", what, loc, shots, name, err)
}

// shot saves a screenshot of the viewport as testoutput/NAME.png.
func (b *tab) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err == nil {
		_ = os.MkdirAll(shots, 0o755)
		err = os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
	}
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

// front makes the tab the active one, as a click on it would.
func (b *tab) front() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.BringToFront, cdp.Empty{}); err != nil {
		b.fail("bring the tab to the front", err)
	}
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

// js quotes a Go string as a JavaScript string literal.
func js(s string) string { return fmt.Sprintf("%q", s) }

// TestWebUI drives the WebUI in headless Chromium as a user would: log in,
// choose a launch shortcut in Settings and launch JupyterLab with it on
// pool cpu, wait for RUNNING, open the notebook and run a cell through the
// proxy, follow the logs across a bridge restart, kill it, and see the
// proxy's page for a terminated notebook.
func TestWebUI(t *testing.T) {
	c := cluster(t)
	before, err := c.Settings(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatalf("read settings: %v", err)
	}
	put := func(sc string) {
		if err := c.PutSettings(context.Background(), api.Settings{LaunchShortcut: sc}); err != nil {
			t.Errorf("set the launch shortcut to %q: %v", sc, err)
		}
	}
	put(before.DefaultLaunchShortcut)
	t.Cleanup(func() { put(before.LaunchShortcut) })
	b := browser(t)

	// Log in.
	b.do("open the WebUI", time.Minute, chromedp.Navigate(master+"/"), chromedp.WaitVisible(css("#login-user")))
	b.do("log in", 30*time.Second,
		chromedp.SendKeys(css("#login-user"), "determined"),
		chromedp.Click(css("form.login button[type=submit]")),
		chromedp.WaitVisible(css("#launch-button")))

	// Settings shows the default shortcut; record another and save it.
	b.do("open Settings", 30*time.Second, chromedp.Click(css(`a[data-nav="settings"]`)), chromedp.WaitVisible(css("#shortcut-input")))
	if got := eval[string](b, `document.querySelector("#shortcut-input").value`); got != before.DefaultLaunchShortcut {
		t.Fatalf("Settings shows the shortcut %q, want the default %q", got, before.DefaultLaunchShortcut)
	}
	b.do("record Ctrl+Alt+K", 30*time.Second,
		chromedp.Click(css("#shortcut-record")),
		chromedp.KeyEvent("k", chromedp.KeyModifiers(chromedp.ModifierCtrl, chromedp.ModifierAlt)),
		chromedp.Click(css("#settings-save")))
	b.until("the new shortcut is saved", 10*time.Second, `document.querySelector("#settings-status").textContent.includes("Saved")`)
	b.shot("settings")
	if saved, err := c.Settings(ctxT(t, 10*time.Second)); err != nil || saved.LaunchShortcut != "Ctrl+Alt+K" {
		shortcut := ""
		if saved != nil {
			shortcut = saved.LaunchShortcut
		}
		t.Fatalf("the bridge keeps the launch shortcut %q (%v), want Ctrl+Alt+K", shortcut, err)
	}

	// On Tasks, the old shortcut does nothing and the new one opens the
	// launch dialog.
	b.do("open Tasks", 30*time.Second, chromedp.Click(css(`a[data-nav="tasks"]`)), chromedp.WaitVisible(css("#launch-button")))
	// A listener added last sees a key after the page's own, which opens
	// the dialog at once (before any await) when the key is its shortcut.
	eval[bool](b, `(() => { window.e2eKeys = 0; window.addEventListener("keydown", () => window.e2eKeys++); return true; })()`)
	b.do("press the old shortcut", 10*time.Second,
		chromedp.KeyEvent("j", chromedp.KeyModifiers(chromedp.ModifierAlt, chromedp.ModifierShift)))
	b.until("the page takes the old shortcut", 10*time.Second, `window.e2eKeys > 0`)
	if eval[bool](b, `document.querySelector("#launch-dialog").open`) {
		t.Fatal("the old shortcut Alt+Shift+J still opens the launch dialog")
	}
	b.do("launch with the new shortcut", 30*time.Second,
		chromedp.KeyEvent("k", chromedp.KeyModifiers(chromedp.ModifierCtrl, chromedp.ModifierAlt)),
		chromedp.WaitVisible(css(`#launch-dialog input[name="pool"][value="cpu"]`)))
	name := fmt.Sprintf("webui-e2e-%d", time.Now().UnixNano())
	b.do("choose pool cpu", 30*time.Second,
		chromedp.Click(css(`#launch-dialog input[name="pool"][value="cpu"]`)),
		chromedp.SendKeys(css("#launch-name"), name))
	b.until("the cpu pool takes no GPUs", 5*time.Second, `document.querySelector("#launch-slots").disabled && document.querySelector("#launch-slots").value === "0"`)
	b.shot("launch-dialog")
	b.do("launch", 30*time.Second, chromedp.Click(css("#launch-submit")), chromedp.WaitNotVisible(css("#launch-dialog")))

	// The task appears; Open is offered only once it is RUNNING.
	rowJS := `[...document.querySelectorAll("#tasks-body tr")].find(r => r.querySelector(".desc").textContent === ` + js(name) + `)`
	b.until("the new task's row", 15*time.Second, "!!"+rowJS)
	id := eval[string](b, rowJS+".dataset.id")
	t.Cleanup(func() { _, _ = c.KillNotebook(context.Background(), id) })
	row := fmt.Sprintf(`#tasks-body tr[data-id=%q]`, id)
	if nb, err := c.Notebook(ctxT(t, 10*time.Second), id); err != nil || nb.ResourcePool != "cpu" || nb.Slots != 0 {
		t.Fatalf("the launched notebook: %+v %v", nb, err)
	}
	consistent := `(() => { const r = document.querySelector(` + js(row) + `); const o = r.querySelector('[data-action="open"]');
		return (r.dataset.state === "RUNNING") === (o.hasAttribute("href") && o.getAttribute("aria-disabled") !== "true"); })()`
	for i := 0; i < 3; i++ {
		if !eval[bool](b, consistent) {
			t.Fatalf("row %s offers Open in state %s", id, eval[string](b, `document.querySelector(`+js(row)+`).dataset.state`))
		}
		time.Sleep(300 * time.Millisecond)
	}
	b.until("the task is RUNNING", startWithin, `document.querySelector(`+js(row+`[data-state="RUNNING"]`)+`) !== null`)
	if !eval[bool](b, consistent) {
		t.Fatal("a RUNNING row offers no Open")
	}
	b.shot("tasks")

	// Open: JupyterLab loads through the proxy in a new tab, and a cell runs.
	newTab := chromedp.WaitNewTarget(b.ctx, func(info *target.Info) bool { return strings.Contains(info.URL, "/proxy/"+id+"/") })
	b.do("Open", 30*time.Second, chromedp.Click(css(row+` a[data-action="open"]`)))
	var tid target.ID
	select {
	case tid = <-newTab:
	case <-time.After(30 * time.Second):
		b.fail("Open opens a tab", fmt.Errorf("no new tab for /proxy/%s/", id))
	}
	jctx, closeJupyter := chromedp.NewContext(b.ctx, chromedp.WithTargetID(tid))
	// Attach with the tab's own context: a target attached under a step's
	// timeout would be detached when that step ends.
	if err := chromedp.Do(jctx); err != nil {
		t.Fatalf("attach to the JupyterLab tab: %v", err)
	}
	jl := &tab{t: t, ctx: jctx}
	jl.front()
	jl.do("JupyterLab's launcher", 2*time.Minute, chromedp.WaitVisible(css(`.jp-LauncherCard[data-category="Notebook"]`)))
	jl.do("new notebook", time.Minute,
		chromedp.Click(css(`.jp-LauncherCard[data-category="Notebook"]`)),
		chromedp.WaitVisible(css(`.jp-NotebookPanel .jp-Cell .cm-content`)))
	// A cell run before JupyterLab has connected to the kernel can be lost
	// (a person would run it again): wait for the kernel, and run the cell
	// again when no result comes.
	jl.until("the kernel is idle", 2*time.Minute, `/\(ipykernel\) \| Idle/.test(document.body.innerText)`)
	firstCell := css(`.jp-NotebookPanel .jp-Cell .cm-content`)
	jl.do("type 6*7", time.Minute, chromedp.Click(firstCell), chromedp.KeyEvent("6*7"))
	for attempt := 1; ; attempt++ {
		jl.do("run the cell", 30*time.Second, chromedp.Click(firstCell), chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierShift)))
		const shows42 = `[...document.querySelectorAll(".jp-NotebookPanel .jp-OutputArea-output")].some(e => e.textContent.trim() === "42")`
		if attempt == 3 {
			jl.until("the cell shows 42", time.Minute, shows42)
			break
		}
		if jl.try(20*time.Second, shows42) {
			break
		}
		t.Logf("no 42 after run %d of the cell; running it again", attempt)
	}
	jl.shot("jupyterlab")
	closeJupyter()
	b.front()

	// Logs: the viewer follows, and after a bridge restart it reconnects
	// without showing a line twice.
	b.do("open Logs", 30*time.Second, chromedp.Click(css(row+` a[data-action="logs"]`)), chromedp.WaitVisible(css("#log-lines")))
	submitted := `[...document.querySelectorAll("#log-lines li")].filter(l => l.textContent.includes("submitted as Slurm job")).length`
	b.until("the bridge's log lines", 15*time.Second, submitted+` === 1 && document.querySelectorAll("#log-lines li.src-job").length > 0`)
	b.until("the log follows", 10*time.Second, `document.querySelector("#logs-status").textContent.startsWith("Following")`)
	b.shot("logs")
	restartBridge(t)
	b.until("the log reconnects after the restart", 30*time.Second, `document.querySelector("#logs-status").textContent.startsWith("Reconnected")`)
	// The reconnected stream replays the log from its start, then what is
	// new: once a line written after the reconnect shows (Jupyter logs the
	// 404 of a page it does not have), any line shown twice would be too.
	marker := fmt.Sprintf("e2e-marker-%d", time.Now().UnixNano())
	if code, body := proxyGet(t, c, id, marker); code != http.StatusNotFound {
		t.Fatalf("GET %s through the proxy: %d %.200s, want Jupyter's 404", marker, code, body)
	}
	b.until("a line written after the reconnect", 30*time.Second,
		`[...document.querySelectorAll("#log-lines li.src-job")].some(l => l.textContent.includes(`+js(marker)+`))`)
	if n := eval[int](b, submitted); n != 1 {
		t.Errorf("after the reconnect the log shows the submit line %d times", n)
	}

	// Kill, confirmed in a dialog; the row ends TERMINATED.
	b.do("back to Tasks", 30*time.Second, chromedp.Click(css(`p.back a`)), chromedp.WaitVisible(css(row)))
	b.do("Kill", 30*time.Second, chromedp.Click(css(row+` [data-action="kill"]`)), chromedp.WaitVisible(css("#confirm-yes")), chromedp.Click(css("#confirm-yes")))
	b.until("the row shows TERMINATED", time.Minute, `document.querySelector(`+js(row+` .badge`)+`).textContent === "TERMINATED"`)
	if eval[bool](b, `document.querySelector(`+js(row+` [data-action="open"]`)+`).hasAttribute("href")`) {
		t.Error("a TERMINATED row still offers Open")
	}
	if !eval[bool](b, `!document.querySelector(`+js(row+` [data-action="relaunch"]`)+`).hidden && document.querySelector(`+js(row+` [data-action="extend"]`)+`).hidden`) {
		t.Error("a TERMINATED row does not offer Relaunch, or still offers Extend")
	}

	// Resource Pools lists pool cpu.
	b.do("Resource Pools", 30*time.Second, chromedp.Click(css(`a[data-nav="pools"]`)), chromedp.WaitVisible(css(`#pools-body tr[data-pool="cpu"]`)))
	b.shot("pools")

	// The proxy's page for a terminated notebook links back to Tasks.
	b.do("the proxy's page for the terminated notebook", 30*time.Second,
		chromedp.Navigate(master+"/proxy/"+id+"/"), chromedp.WaitVisible(css(`a[href="/det/"]`)))
	if h1 := eval[string](b, `document.querySelector("h1").textContent`); h1 != "Gone" {
		t.Errorf("the proxy's page for a terminated notebook says %q", h1)
	}
	b.shot("proxy-terminated")
	b.do("back to Tasks from the proxy's page", 30*time.Second, chromedp.Click(css(`a[href="/det/"]`)), chromedp.WaitVisible(css(row)))
}

// startBridge starts the bridge (devcluster/bridge.sh) in the proxy mode
// the run tests: without DET_PROXY_MODE it would come back in the site
// config's mode, and the rest of a direct-mode run would test tunnels.
func startBridge(t *testing.T) {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(repo, "devcluster", "bridge.sh"), "start")
	cmd.Env = os.Environ()
	if !tunnelMode() {
		cmd.Env = append(cmd.Env, "DET_PROXY_MODE=direct")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("start the bridge: %v\n%s", err, out)
	}
}

// restartBridge kills the bridge (SIGKILL, as a crash) and starts it again.
func restartBridge(t *testing.T) {
	t.Helper()
	pid := pidOf(t, "bridge")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitExited(t, pid, 10*time.Second)
	startBridge(t)
	if _, err := client.New(master, "").Login(ctxT(t, 10*time.Second), "determined", ""); err != nil {
		t.Fatalf("the bridge does not answer after the restart: %v", err)
	}
}
