package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
	"github.com/det-slurm/bridge/siteconfig"
)

// Item 8: a password change asks for the old password. Determined's
// clients send none, so the proof is a recent login.
var _ = addSecCase(8, "password-change-with-a-stale-token", staleTokenChangesPassword)

// staleTokenChangesPassword: the attacker holds a victim's token (copied
// from a browser or a token file) but not the password. Once the login
// behind it is older than the site's password_change_login_within, the
// token cannot change the password; the victim's own change, logging in
// with the current password, still works.
func staleTokenChangesPassword(t *testing.T) {
	cfg, err := siteconfig.Load(filepath.Join(repo, "site-configs", "devcluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("sec-stale-%d", time.Now().UnixNano()%1e9)
	ensureUser(t, adminClient(t), name, "victim-password")
	stolen := client.New(master, "")
	if _, err := stolen.Login(ctxT(t, 10*time.Second), name, "victim-password"); err != nil {
		t.Fatalf("log in as %s: %v", name, err)
	}
	time.Sleep(cfg.PasswordChangeWindow + time.Second)
	pass := "attacker-password"
	_, err = stolen.PatchUserByName(ctxT(t, 10*time.Second), name, api.PatchUser{Password: &pass})
	wantRefused(t, "a password change with a stolen token of an old login", err, []int{http.StatusForbidden}, "log in again")
	if _, err := client.New(master, "").Login(ctxT(t, 10*time.Second), name, "victim-password"); err != nil {
		t.Errorf("the victim's password changed: %v", err)
	}
	if _, err := stolen.Me(ctxT(t, 10*time.Second)); err != nil {
		t.Errorf("the refusal ended the session (it stays valid for everything else): %v", err)
	}
	if _, err := stolen.ChangeOwnPassword(ctxT(t, 10*time.Second), name, "victim-password", "victim-second"); err != nil {
		t.Errorf("the change with the current password: %v", err)
	}
}
