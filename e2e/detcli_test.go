package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
	"github.com/det-slurm/bridge/siteconfig"
)

// peerDir is where Determined's own CLI 0.38.1 is kept for tests: the
// shared/peers/determined folder beside the project (or DET_PEER_DIR).
func peerDir(t *testing.T) string {
	t.Helper()
	cands := []string{os.Getenv("DET_PEER_DIR")}
	for d := filepath.Dir(repo); d != "/" && d != "."; d = filepath.Dir(d) {
		cands = append(cands, filepath.Join(d, "shared", "peers", "determined"))
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if st, err := os.Stat(filepath.Join(c, "det")); err == nil && st.Mode().IsRegular() {
			return c
		}
	}
	t.Fatalf("Determined's CLI (shared/peers/determined/det beside the project, or DET_PEER_DIR) is missing")
	return ""
}

// detCLI runs Determined's real CLI as one person: its own HOME (so its
// own token store), no terminal (so getpass reads stdin), DET_MASTER set.
type detCLI struct {
	t    *testing.T
	bin  string
	home string
	env  []string
	cred *syscall.Credential // whom it runs as; nil: this test's user
}

func newDetCLI(t *testing.T) *detCLI {
	t.Helper()
	cluster(t)
	home := t.TempDir()
	return &detCLI{t: t, bin: filepath.Join(peerDir(t), "det"), home: home,
		env: []string{"HOME=" + home, "PATH=/usr/bin:/bin", "DET_MASTER=" + master, "LANG=C.UTF-8",
			"DET_PEER_CACHE=" + filepath.Join(state, "determined-cli-cache")}}
}

// try runs the CLI with stdin and returns its combined output and error.
func (d *detCLI) try(stdin string, args ...string) (string, error) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.bin, args...)
	cmd.Env = d.env
	cmd.Stdin = strings.NewReader(stdin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: d.cred}
	// On timeout, end what it started too (the ssh of `det shell start`).
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return cliOutput(out.String()), err
}

// ok runs the CLI and fails the test unless it succeeds.
func (d *detCLI) ok(stdin string, args ...string) string {
	d.t.Helper()
	out, err := d.try(stdin, args...)
	if err != nil {
		d.t.Fatalf("det %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// cliOutput drops what the CLI prints about itself rather than about the
// command: its version comparison with the master and getpass's warning
// that it reads the password from stdin.
func cliOutput(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "GetPassWarning") || strings.Contains(l, "warnings.warn(") || strings.Contains(l, "is less than CLI version") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// logLines counts the log lines in the CLI's output (each starts with its
// time in brackets), leaving out what it says about the stream.
func logLines(out string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "[") {
			n++
		}
	}
	return n
}

var proxyURL = regexp.MustCompile(`/proxy/([0-9a-f-]{36})/`)

// TestDeterminedCLIUsers: Determined's own CLI logs in (hashed passwords),
// creates a user who then logs in, lists users and links one to a POSIX
// account.
func TestDeterminedCLIUsers(t *testing.T) {
	t.Parallel()
	d := newDetCLI(t)
	d.ok("\n", "user", "login", "determined")
	if out := d.ok("", "user", "whoami"); !strings.Contains(out, "determined") {
		t.Errorf("whoami after login as determined:\n%s", out)
	}
	d.ok("", "user", "logout")

	name := fmt.Sprintf("detcli%d", time.Now().UnixNano()%1_000_000_000)
	pass := "Det-CLI-e2e-9x!"
	d.ok("\n", "user", "login", "admin")
	d.ok("", "user", "create", name, "--password", pass)
	if out := d.ok("", "user", "list"); !strings.Contains(out, name) {
		t.Errorf("det user list does not show %s:\n%s", name, out)
	}
	d.ok("", "user", "link-with-agent-user", name, "--agent-user", "alice", "--agent-uid", "2001", "--agent-group", "alice", "--agent-gid", "2001")

	u := newDetCLI(t)
	if out, err := u.try("wrong-password\n", "user", "login", name); err == nil {
		t.Errorf("login with a wrong password succeeded:\n%s", out)
	}
	u.ok(pass+"\n", "user", "login", name)
	if out := u.ok("", "user", "whoami"); !strings.Contains(out, name) {
		t.Errorf("whoami as %s:\n%s", name, out)
	}
	// The new user's notebooks run as the POSIX user it was linked to.
	id := u.startNotebook("--config", "resources.slots=0", "--config", "resources.resource_pool=cpu")
	t.Cleanup(func() { _, _ = u.try("", "notebook", "kill", id) })
	if out := u.ok("", "notebook", "list"); !strings.Contains(out, id) {
		t.Errorf("%s's notebook list lacks %s:\n%s", name, id, out)
	}
}

// startNotebook runs `det notebook start --no-browser` with args, waits for
// it to print the notebook's URL (it returns once Jupyter is ready), and
// returns the notebook id.
func (d *detCLI) startNotebook(args ...string) string {
	d.t.Helper()
	out := d.ok("", append([]string{"notebook", "start", "--no-browser"}, args...)...)
	m := proxyURL.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, master+"/proxy/"+m[1]+"/") {
		d.t.Fatalf("det notebook start printed no URL under %s/proxy/<id>/:\n%s", master, out)
	}
	return m[1]
}

// TestDeterminedCLINotebook drives a notebook's whole life with
// Determined's own CLI: start (with its config options, a config file with
// a slurm section, a context folder and a bind), preview, detach, list,
// config, logs, kill by prefix, and the task, agent and slot lists.
func TestDeterminedCLINotebook(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	d := newDetCLI(t)
	d.ok("\n", "user", "login", "determined")

	id := d.startNotebook()
	t.Cleanup(func() { _, _ = d.try("", "notebook", "kill", id) })
	if code, body := proxyGet(t, c, id, "lab"); code != 200 || !strings.Contains(body, "JupyterLab") {
		t.Errorf("the URL det printed does not answer JupyterLab: HTTP %d\n%.300s", code, body)
	}

	// A config file with Determined's slurm section, and --config.
	cfgFile := filepath.Join(t.TempDir(), "nb.yaml")
	if err := os.WriteFile(cfgFile, []byte("description: detcli-slurm\nresources:\n  resource_pool: cpu\nslurm:\n  sbatch_args: []\n  slots_per_node: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	id2 := d.startNotebook("--config-file", cfgFile, "--config", "resources.slots=0")
	t.Cleanup(func() { _, _ = d.try("", "notebook", "kill", id2) })
	if out := d.ok("", "notebook", "config", id2); !strings.Contains(out, "detcli-slurm") || !strings.Contains(out, "slots_per_node") {
		t.Errorf("det notebook config %s does not show the config file's fields:\n%s", id2, out)
	}

	// --preview prints the merged config and starts nothing.
	before := d.ok("", "notebook", "list", "-q")
	if out := d.ok("", "notebook", "start", "--preview", "--config", "description=detcli-preview"); !strings.Contains(out, "detcli-preview") || !strings.Contains(out, "resources") {
		t.Errorf("--preview does not print the merged config:\n%s", out)
	}
	if after := d.ok("", "notebook", "list", "-q"); len(strings.Fields(after)) != len(strings.Fields(before)) {
		t.Errorf("--preview started a notebook:\nbefore %s\nafter %s", before, after)
	}

	// -d prints the id only.
	out := d.ok("", "notebook", "start", "-d", "--config", "resources.slots=0", "--config", "resources.resource_pool=cpu")
	id3 := strings.TrimSpace(out)
	if !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(id3) {
		t.Fatalf("det notebook start -d printed %q, want the id only", out)
	}
	t.Cleanup(func() { _, _ = d.try("", "notebook", "kill", id3) })

	list := d.ok("", "notebook", "list")
	for _, want := range []string{id, id2, id3} {
		if !strings.Contains(list, want) {
			t.Errorf("det notebook list lacks %s:\n%s", want, list)
		}
	}
	if out := d.ok("", "notebook", "list", "-a"); !strings.Contains(out, id) {
		t.Errorf("det notebook list -a lacks %s:\n%s", id, out)
	}
	if out := d.ok("", "notebook", "list", "--json"); !strings.Contains(out, `"`+id+`"`) || !strings.Contains(out, `"serviceAddress": "/proxy/`+id+`/"`) {
		t.Errorf("det notebook list --json:\n%s", out)
	}
	if out := d.ok("", "notebook", "list", "-q"); !strings.Contains(out, id) || strings.Contains(out, "STATE") {
		t.Errorf("det notebook list -q:\n%s", out)
	}

	logs := d.ok("", "notebook", "logs", id)
	if !strings.Contains(logs, "Jupyter") {
		t.Errorf("det notebook logs %s shows no Jupyter line:\n%s", id, logs)
	}
	if tail := d.ok("", "notebook", "logs", "--tail", "5", id); logLines(tail) != 5 {
		t.Errorf("det notebook logs --tail 5 printed other than 5 log lines:\n%s", tail)
	}

	if out := d.ok("", "task", "list"); !strings.Contains(out, id) {
		t.Errorf("det task list lacks %s:\n%s", id, out)
	}
	if out := d.ok("", "agent", "list"); !strings.Contains(out, "r1-gpu01-ib") || !strings.Contains(out, "cpu1") {
		t.Errorf("det agent list does not show the cluster's nodes:\n%s", out)
	}
	if out := d.ok("", "slot", "list"); !strings.Contains(out, "r1-gpu02-ib") || !strings.Contains(strings.ToLower(out), "cuda") {
		t.Errorf("det slot list does not show the GPUs:\n%s", out)
	}

	// logs -f ends when the task ends; kill by a unique prefix.
	follow := exec.Command(d.bin, "notebook", "logs", "-f", id3)
	follow.Env = d.env
	follow.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var fout bytes.Buffer
	follow.Stdout, follow.Stderr = &fout, &fout
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- follow.Wait() }()
	time.Sleep(2 * time.Second)
	d.ok("", "notebook", "kill", id3[:13])
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = follow.Process.Kill()
		t.Errorf("det notebook logs -f did not end when the task ended:\n%s", fout.String())
	}
	d.ok("", "notebook", "kill", id2)
	waitState(t, c, id2, api.StateTerminated, time.Minute)
}

// TestDeterminedCLIInNotebook: inside a notebook, Determined's CLI works
// without a login (Determined's environment), a context folder and a bind
// are there, and the task's token dies with the task. Another user's kill
// and logs of the notebook fail.
func TestDeterminedCLIInNotebook(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	d := newDetCLI(t)
	d.ok("\n", "user", "login", "determined")

	// The CLI goes where notebooks see it: the shared folder is bound into
	// every job at /run/determined/workdir/shared_fs.
	shared := filepath.Join(state, "shared")
	cliDir := filepath.Join(shared, "determined-cli")
	run(t, "mkdir", "-p", cliDir)
	run(t, "cp", "-a", peerDir(t)+"/.", cliDir)
	run(t, "chmod", "-R", "a+rX", cliDir)

	ctxDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "from-context.txt"), []byte("context file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ctxDir, 0o755); err != nil {
		t.Fatal(err)
	}
	id := d.startNotebook("--config", "resources.slots=0", "--config", "resources.resource_pool=cpu",
		"-c", ctxDir, "-v", shared+":/mnt/e2e-bind")
	t.Cleanup(func() { _, _ = d.try("", "notebook", "kill", id) })

	k := openKernel(t, c, id)
	got := k.exec(`import os, subprocess
print("ctx", os.path.exists("from-context.txt"))
print("bind", os.path.isdir("/mnt/e2e-bind/determined-cli"))
print("shared", os.listdir("/run/determined/workdir/shared_fs"))
env = dict(os.environ, DET_PEER_CACHE="/tmp/det-cli-cache-%d" % os.getuid())
try:
    r = subprocess.run(["/run/determined/workdir/shared_fs/determined-cli/det", "notebook", "list"], env=env, capture_output=True, text=True)
    print(r.returncode, r.stdout, r.stderr)
except OSError as e:
    print("cannot run Determined's CLI:", e)
print("token", os.environ.get("DET_USER_TOKEN", ""))
print("user", os.environ.get("DET_USER", ""))
`)
	if !strings.Contains(got, "ctx True") {
		t.Errorf("the context folder's file is not in the working folder:\n%s", got)
	}
	if !strings.Contains(got, "bind True") {
		t.Errorf("-v did not bind the folder:\n%s", got)
	}
	if !strings.Contains(got, id) {
		t.Errorf("Determined's CLI in the notebook does not list the notebook:\n%s", got)
	}
	if !strings.Contains(got, "user determined") {
		t.Errorf("DET_USER is not the owner:\n%s", got)
	}
	token := ""
	if m := regexp.MustCompile(`token (\S+)`).FindStringSubmatch(got); m != nil {
		token = m[1]
	}
	if token == "" {
		t.Fatalf("no DET_USER_TOKEN in the notebook:\n%s", got)
	}

	// Another user reaches nothing of it.
	asUser(t, "bob")
	b := newDetCLI(t)
	b.ok("bob-password\n", "user", "login", "bob")
	for _, args := range [][]string{{"notebook", "kill", id}, {"notebook", "logs", id}} {
		out, err := b.try("", args...)
		if err == nil {
			t.Errorf("bob's det %s succeeded:\n%s", strings.Join(args, " "), out)
		} else if !regexp.MustCompile(`(?i)not found|forbidden|belongs to another user`).MatchString(out) {
			t.Errorf("bob's det %s failed without Determined's not-found or forbidden message:\n%s", strings.Join(args, " "), out)
		}
	}

	d.ok("", "notebook", "kill", id)
	waitState(t, c, id, api.StateTerminated, time.Minute)
	tc := client.New(master, token)
	if _, err := tc.Me(ctxT(t, 10*time.Second)); err == nil {
		t.Errorf("the task's token still works after the notebook ended")
	}
}

// TestDeterminedCLIChangePassword: Determined's own `det user change-password`
// (which sends no current password) works right after a login, and logs
// itself in again with the new password. With the token of a login older
// than the site's password_change_login_within it is refused with a message
// that says to log in again, the password stays, and after a new login it
// works.
func TestDeterminedCLIChangePassword(t *testing.T) {
	t.Parallel()
	cfg, err := siteconfig.Load(filepath.Join(repo, "site-configs", "devcluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("detpw%d", time.Now().UnixNano()%1_000_000_000)
	first, second, third := "Det-pw-first-1", "Det-pw-second-2", "Det-pw-third-3"
	ensureUser(t, adminClient(t), name, first)

	d := newDetCLI(t)
	d.ok(first+"\n", "user", "login", name)
	d.ok(second+"\n"+second+"\n", "user", "change-password")
	if out := d.ok("", "user", "whoami"); !strings.Contains(out, name) {
		t.Errorf("whoami after the change (the CLI logs in again itself):\n%s", out)
	}

	time.Sleep(cfg.PasswordChangeWindow + time.Second)
	out, err := d.try("Stolen-pw-4\nStolen-pw-4\n", "user", "change-password")
	if err == nil || !strings.Contains(out, "det user login "+name) {
		t.Errorf("a change with a login older than %s: err %v, want it refused with what to do:\n%s", cfg.PasswordChangeWindow, err, out)
	}
	if _, err := client.New(master, "").Login(ctxT(t, 10*time.Second), name, second); err != nil {
		t.Errorf("the refused change changed the password: %v", err)
	}

	d.ok(second+"\n", "user", "login", name)
	d.ok(third+"\n"+third+"\n", "user", "change-password")
	if _, err := client.New(master, "").Login(ctxT(t, 10*time.Second), name, third); err != nil {
		t.Errorf("the change after a new login: %v", err)
	}
}
