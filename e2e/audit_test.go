package e2e

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// TestAudit: the audit trail shows an admin opening alice's running
// notebook through the proxy (the admin as actor, the notebook as target,
// alice as its owner) and a failed login as alice from the client's
// address; alice, not an admin, may not read it.
func TestAudit(t *testing.T) {
	alice := asUser(t, "alice")
	admin := adminClient(t)
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	nb := start(t, alice, cpuNotebook())
	nb = waitState(t, alice, nb.ID, api.StateRunning, startWithin)

	if code, body := proxyGet(t, admin, nb.ID, "api/status"); code != http.StatusOK {
		t.Fatalf("the admin through the proxy to alice's notebook: %d %s", code, body)
	}
	proxyGet(t, admin, nb.ID, "api/status") // recorded once, not per request
	entries, err := admin.Audit(ctxT(t, 10*time.Second), client.AuditQuery{Since: since, Action: api.AuditProxyAdminAccess})
	if err != nil {
		t.Fatalf("read the audit trail as admin: %v", err)
	}
	var access []api.AuditEntry
	for _, e := range entries {
		if e.Target == nb.ID {
			access = append(access, e)
		}
	}
	if len(access) != 1 || access[0].Actor != "admin" || access[0].Detail != "alice" || access[0].Source == "" {
		t.Errorf("the admin's access to %s: %+v, want one entry of admin's with owner alice", nb.ID, access)
	}

	guess := client.New(master, "")
	if _, err := guess.Login(ctxT(t, 10*time.Second), "alice", "not-alices-password"); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("a wrong password for alice: %v, want 401", err)
	}
	entries, err = admin.Audit(ctxT(t, 10*time.Second), client.AuditQuery{Since: since, Actor: "alice", Action: api.AuditLoginFailed})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no login.failed entry for alice")
	}
	last := entries[len(entries)-1]
	if last.Source != "127.0.0.1" || strings.Contains(last.Detail, "not-alices-password") {
		t.Errorf("alice's failed login: %+v, want source 127.0.0.1 and no password", last)
	}

	_, err = alice.Audit(ctxT(t, 10*time.Second), client.AuditQuery{})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Errorf("alice reads the audit trail: %v, want 403", err)
	}
}
