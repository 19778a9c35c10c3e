package main

import (
	"bufio"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// auditSite writes a site config whose database holds a few entries of
// the audit trail, and returns the config's path.
func auditSite(t *testing.T) string {
	t.Helper()
	cfg := writeSite(t)
	st, err := store.Open(filepath.Join(filepath.Dir(cfg), "bridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	for _, a := range []store.Audit{
		{Time: now.Add(-48 * time.Hour), Actor: "alice", Action: api.AuditLogin, Source: "10.0.0.5", Detail: "password"},
		{Time: now.Add(-30 * time.Minute), Actor: "alice", Action: api.AuditLoginFailed, Source: "10.0.0.5", Detail: "password: invalid credentials"},
		{Time: now.Add(-20 * time.Minute), Actor: "admin", Action: api.AuditProxyAdminAccess, Target: "5b2a9ea4", Source: "10.0.0.9", Detail: "alice"},
		{Time: now.Add(-10 * time.Minute), Action: api.AuditTaskCancel, Target: "5b2a9ea4", Detail: "notebook, pool gpu: idle for more than 30m"},
	} {
		if err := st.AddAudit(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// TestAuditCommand: det-bridge audit prints the last day's entries as a
// table, or as JSON lines; --since, --actor and --action narrow them, and
// a bad flag is refused naming it.
func TestAuditCommand(t *testing.T) {
	cfg := auditSite(t)
	out, _, err := execute(t, "", "audit", "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "Time") || !strings.Contains(lines[0], "Actor") || !strings.Contains(lines[0], "Detail") {
		t.Fatalf("table:\n%s", out)
	}
	for i, want := range []string{"alice login.failed - 10.0.0.5 password: invalid credentials", "admin proxy.admin_access 5b2a9ea4 10.0.0.9 alice", "- task.cancel 5b2a9ea4 - notebook, pool gpu: idle"} {
		if !strings.Contains(strings.Join(strings.Fields(lines[i+1]), " "), want) {
			t.Errorf("line %d %q lacks %q", i+1, lines[i+1], want)
		}
	}
	if !strings.HasSuffix(strings.Fields(lines[1])[0], "Z") {
		t.Errorf("times are not in UTC: %s", lines[1])
	}

	out, _, err = execute(t, "", "audit", "--config", cfg, "--since", "72h", "--actor", "alice", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got []api.AuditEntry
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e api.AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		got = append(got, e)
	}
	if len(got) != 2 || got[0].Action != api.AuditLogin || got[1].Action != api.AuditLoginFailed || got[1].Source != "10.0.0.5" {
		t.Errorf("alice's entries of three days: %+v", got)
	}

	out, _, err = execute(t, "", "audit", "--config", cfg, "--since", "", "--action", "login*")
	if err != nil || strings.Count(out, "\n") != 3 {
		t.Errorf("every login: %v\n%s", err, out)
	}
	for args, want := range map[string]string{
		"--since yesterday": "--since: \"yesterday\" is neither an RFC 3339 time",
		"--action logon":    "--action: \"logon\" is not an action of the audit trail",
		"--json":            "audit: --config SITE.yaml is required",
	} {
		a := append([]string{"audit"}, strings.Fields(args)...)
		if a[1] != "--json" {
			a = append(a, "--config", cfg)
		}
		if _, _, err := execute(t, "", a...); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
}
