package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/siteconfig"
)

// TestSetPassword: det-bridge set-password sets the password read from
// standard input, refuses an empty one, and leaves an entry in the audit
// trail without the password.
func TestSetPassword(t *testing.T) {
	cfg := writeSite(t)
	out, errOut, err := execute(t, "S3cret-passw0rd\n", "set-password", "--config", cfg, "admin")
	if err != nil || out != "Password of admin set.\n" {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	if _, _, err := execute(t, "\n", "set-password", "--config", cfg, "admin"); err == nil || err.Error() != "the password is empty" {
		t.Errorf("an empty password: %v", err)
	}
	if _, _, err := execute(t, "", "set-password", "--config", cfg, "admin"); err == nil || !strings.HasPrefix(err.Error(), "read the new password from standard input") {
		t.Errorf("no input: %v", err)
	}
	c, err := siteconfig.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(c.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, _, err := st.Login(context.Background(), "admin", store.Plain("S3cret-passw0rd"), time.Minute); err != nil {
		t.Errorf("the new password does not log admin in: %v", err)
	}

	buf, _, err := execute(t, "", "audit", "--config", cfg, "--action", api.AuditUserUpdate)
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(strings.Fields(buf), " "); !strings.Contains(s, "user.update admin") || !strings.Contains(s, "password, set with det-bridge set-password") || strings.Contains(s, "S3cret") {
		t.Errorf("entries:\n%s", s)
	}
}
