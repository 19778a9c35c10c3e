package bridge

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
)

// TestOwnPasswordChangeNeedsRecentLogin: one's own password changes only
// with a token from a login within the site's window; an older token (or
// one made before the store recorded when) is refused with a 403 that says
// to log in again, and the password stays. An admin's reset of another
// user's password needs no fresh login.
func TestOwnPasswordChangeNeedsRecentLogin(t *testing.T) {
	h := newHarness(t)
	admin := h.adminClient()
	first := "Dora-passw0rd"
	admin.do("POST", "/api/v1/users", api.PostUserRequest{User: api.User{Username: "dora", Active: true}, Password: &first}, nil, http.StatusOK)
	id := h.userID("dora")
	patch := fmt.Sprintf("/api/v1/users/%d", id)
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(filepath.Dir(h.root), "db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	age := func(issued int64) {
		t.Helper()
		if _, err := db.Exec("UPDATE tokens SET issued=? WHERE user_id=?", issued, id); err != nil {
			t.Fatal(err)
		}
		h.srv.tokens.clear()
	}

	second := "Dora-second-1"
	h.as("dora", first).do("PATCH", patch, api.PatchUser{Password: &second}, nil, http.StatusOK)

	for _, c := range []struct {
		name   string
		issued int64
	}{
		{"a login older than the window", time.Now().Add(-h.srv.cfg.PasswordChangeWindow - time.Minute).Unix()},
		{"a token from before the store recorded its time", 0},
	} {
		d := h.as("dora", second)
		age(c.issued)
		stolen := "Mallory-owns-it"
		w := d.req("PATCH", patch, api.PatchUser{Password: &stolen}, nil)
		if msg := errorOf(w.Body.Bytes()); w.Code != http.StatusForbidden || !strings.Contains(msg, "det user login dora") {
			t.Errorf("%s: %d %q, want 403 saying to log in again", c.name, w.Code, msg)
		}
		if code, _, _ := h.login("dora", second, false); code != http.StatusOK {
			t.Errorf("%s: the password changed (login with the old one: %d)", c.name, code)
		}
	}

	age(0)
	third := "Dora-third-3"
	admin.do("PATCH", patch, api.PatchUser{Password: &third}, nil, http.StatusOK)
	if code, _, _ := h.login("dora", third, false); code != http.StatusOK {
		t.Errorf("an admin's reset: login with the new password: %d", code)
	}
}
