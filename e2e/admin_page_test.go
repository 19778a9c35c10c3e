package e2e

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// usageWithin is how long the bridge may take to have two points of
// usage history: it writes one as it starts and one a minute after.
const usageWithin = 75 * time.Second

// TestAdminPage: the bridge's usage history has points for every pool; an
// admin sees them drawn on the WebUI's Admin page (uPlot's canvases, and
// the page's count of points), linked in the header; a normal user has no
// link, and the page tells them it is for admins only, as the API's 403
// does.
func TestAdminPage(t *testing.T) {
	c := cluster(t)
	admin := adminClient(t)

	// The history: at least two points of pool gpu, every pool listed.
	var usage api.UsageResponse
	deadline := time.Now().Add(usageWithin)
	for {
		u, err := admin.Usage(ctxT(t, 10*time.Second), 24)
		if err != nil {
			t.Fatalf("read the usage history as admin: %v", err)
		}
		usage = *u
		if n := pointsOf(usage, "gpu"); n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pool gpu has %d points of usage history %s after the test began, want 2: %+v", pointsOf(usage, "gpu"), usageWithin, usage)
		}
		time.Sleep(2 * time.Second)
	}
	if usage.StepSeconds != 60 || len(usage.Pools) < 2 {
		t.Errorf("usage history: step %d, pools %d; want 60 and every configured pool", usage.StepSeconds, len(usage.Pools))
	}
	for _, p := range usage.Pools {
		for _, pt := range p.Points {
			if pt.Time.Unix()%60 != 0 || pt.Time.Before(usage.From) || pt.Time.After(usage.To) || pt.GPUsIdle > pt.GPUsAllocated {
				t.Errorf("pool %s: point %+v out of shape (from %s to %s)", p.Pool, pt, usage.From, usage.To)
			}
		}
	}
	var ae *client.APIError
	if _, err := c.Usage(ctxT(t, 10*time.Second), 24); !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Errorf("the usage history as a normal user: %v, want 403", err)
	}

	// As admin: the header links the page, which draws the points.
	b := browser(t)
	b.do("open the WebUI", time.Minute, chromedp.Navigate(master+"/"), chromedp.WaitVisible(css("#login-user")))
	b.do("log in as admin", 30*time.Second,
		chromedp.SendKeys(css("#login-user"), "admin"),
		chromedp.Click(css("form.login button[type=submit]")),
		chromedp.WaitVisible(css("#launch-button")))
	b.do("open Admin from the header", 30*time.Second, chromedp.Click(css(`a[data-nav="admin"]`)), chromedp.WaitVisible(css(`#admin-updated`)))
	gpu := `document.querySelector('.usage-pool[data-pool="gpu"]')`
	b.until("pool gpu's charts", 30*time.Second, gpu+` !== null && `+gpu+`.querySelectorAll(".uplot canvas").length === 3`)
	if !eval[bool](b, `document.querySelector("#admin-no-charts").hidden`) {
		t.Error("the Admin page says its charts are missing: was the bridge built without bridge/webui/vendor.sh?")
	}
	if n := eval[int](b, `Number(document.querySelector("#usage").dataset.points)`); n <= 0 {
		t.Errorf("the Admin page counts %d points", n)
	}
	if n := eval[int](b, `Number(`+gpu+`.dataset.points)`); n < 2 {
		t.Errorf("the Admin page counts %d points of pool gpu, want at least 2", n)
	}
	if !eval[bool](b, gpu+`.querySelectorAll(".u-legend").length === 3 && /\d+ points?\./.test(`+gpu+`.querySelector(".usage-summary").textContent)`) {
		t.Errorf("pool gpu's legends or summary are missing: %q", eval[string](b, gpu+`.textContent`))
	}
	b.shot("admin-page")

	// As a normal user: no link, and the page says admins only.
	b.do("log out", 30*time.Second, chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#login-user")))
	b.do("log in as determined", 30*time.Second,
		chromedp.SendKeys(css("#login-user"), "determined"),
		chromedp.Click(css("form.login button[type=submit]")),
		chromedp.WaitVisible(css("#launch-button")))
	if !eval[bool](b, `document.querySelector("#nav-admin").hidden`) {
		t.Error("a normal user's header links the Admin page")
	}
	b.do("open /det/admin as a normal user", 30*time.Second, chromedp.Navigate(master+"/det/admin"), chromedp.WaitVisible(css("#admin-denied")))
	if !eval[bool](b, `document.querySelector("#admin-denied").textContent.includes("Admins only") && document.querySelectorAll(".uplot").length === 0`) {
		t.Errorf("a normal user's Admin page: %q", eval[string](b, `document.querySelector("main").textContent`))
	}
	b.shot("admin-page-user")
}

// pointsOf is how many points pool has in the usage history.
func pointsOf(u api.UsageResponse, pool string) int {
	for _, p := range u.Pools {
		if p.Pool == pool {
			return len(p.Points)
		}
	}
	return 0
}
