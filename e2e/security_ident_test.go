package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/siteconfig"

	_ "github.com/mattn/go-sqlite3" // openDBReadOnly
)

// Items 6 (POSIX identities), 8 (sessions) and, of 9, passwords too long:
// a cluster user (or a careless admin) tries to become someone else, or to
// keep or widen a token.

var (
	_ = addSecCase(6, "admin-links-system-accounts", linkSystemAccounts)
	_ = addSecCase(6, "munge-login-from-system-account", mungeFromSystemAccount)
	_ = addSecCase(6, "munge-login-linked-to-two-users", mungeAmbiguous)
	_ = addSecCase(6, "munge-credential-made-for-another-service", mungeOtherService)
	_ = addSecCase(6, "munge-credential-replayed-late", mungeStale)
	_ = addSecCase(8, "password-change-ends-other-sessions", passwordChangeEndsSessions)
	_ = addSecCase(8, "task-token-manages-accounts", taskTokenScope)
	_ = addSecCase(8, "login-timing-lists-users", loginTiming)
	_ = addSecCase(8, "database-holds-plain-tokens", noPlainTokens)
	_ = addSecCase(9, "password-over-the-limit", longPassword)
)

// adminClient logs in as admin (empty password on the dev cluster).
func adminClient(t *testing.T) *client.Client {
	t.Helper()
	cluster(t)
	c := client.New(master, "")
	if _, err := c.Login(ctxT(t, 10*time.Second), "admin", ""); err != nil {
		t.Fatalf("log in as admin: %v", err)
	}
	return c
}

// ensureUser creates bridge user name with password pass unless it exists.
func ensureUser(t *testing.T, admin *client.Client, name, pass string) {
	t.Helper()
	_, err := admin.CreateUser(ctxT(t, 10*time.Second), name, pass, false)
	var ae *client.APIError
	if err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusConflict) {
		t.Fatalf("create user %s: %v", name, err)
	}
}

// wantRefused fails unless err is an API error with one of codes whose
// message holds every one of parts.
func wantRefused(t *testing.T, what string, err error, codes []int, parts ...string) {
	t.Helper()
	var ae *client.APIError
	if !errors.As(err, &ae) {
		t.Errorf("%s: got %v, want a refusal (HTTP %v)", what, err, codes)
		return
	}
	ok := false
	for _, c := range codes {
		ok = ok || ae.Status == c
	}
	if !ok {
		t.Errorf("%s: HTTP %d %q, want HTTP %v", what, ae.Status, ae.Message, codes)
	}
	for _, p := range parts {
		if !strings.Contains(ae.Message, p) {
			t.Errorf("%s: message %q does not say %q", what, ae.Message, p)
		}
	}
}

// mungeCred makes a munge credential as POSIX user posix: with the payload
// det uses for this bridge when payload is nil, none (`munge -n`) when it
// is "", else the given one.
func mungeCred(t *testing.T, posix string, payload *string) string {
	t.Helper()
	args := []string{"-s", api.MungePayload(master)}
	if payload != nil {
		args = []string{"-s", *payload}
		if *payload == "" {
			args = []string{"-n"}
		}
	}
	out, err := runAs(t, posix, "/usr/bin/munge", args...)
	if err != nil {
		t.Fatalf("munge %s as %s: %v %s", strings.Join(args, " "), posix, err, out)
	}
	return strings.TrimSpace(out)
}

func mungeLogin(t *testing.T, cred string) (*client.Client, error) {
	t.Helper()
	c := client.New(master, "")
	_, err := c.MungeLogin(ctxT(t, 10*time.Second), cred)
	return c, err
}

func strptr(s string) *string { return &s }

// linkTo is the change that links a user to POSIX user posix.
func linkTo(posix string) api.PatchUser {
	return api.PatchUser{AgentUserGroup: &api.AgentUserGroup{AgentUser: posix}}
}

// linkSystemAccounts: an admin links a bridge user to the munge and slurm
// daemons' accounts, to a system account below min_uid, to root: each is
// refused with a message naming the account and the rule.
func linkSystemAccounts(t *testing.T) {
	admin := adminClient(t)
	ensureUser(t, admin, "sec-sysacct", "sec-sysacct-password")
	for posix, rule := range map[string]string{
		"munge":  "munge daemon's account",
		"slurm":  "slurm daemon's account",
		"daemon": "below the site's min_uid",
		"root":   "root (uid 0)",
	} {
		_, err := admin.PatchUserByName(ctxT(t, 10*time.Second), "sec-sysacct", linkTo(posix))
		wantRefused(t, "link to "+posix, err, []int{http.StatusBadRequest, http.StatusForbidden}, "POSIX user "+posix, rule)
	}
	users, err := admin.Users(ctxT(t, 10*time.Second), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Username == "sec-sysacct" && u.AgentUserGroup != nil && u.AgentUserGroup.AgentUser != "" {
			t.Errorf("sec-sysacct is linked to %s after the refusals", u.AgentUserGroup.AgentUser)
		}
	}
}

// mungeFromSystemAccount: the daemon account and root prove who they are
// with munge; neither gets a token (nor a bridge user made for it).
func mungeFromSystemAccount(t *testing.T) {
	cluster(t)
	for posix, rule := range map[string]string{"daemon": "below the site's min_uid", "root": "root (uid 0)"} {
		_, err := mungeLogin(t, mungeCred(t, posix, nil))
		wantRefused(t, "munge login as "+posix, err, []int{http.StatusForbidden}, rule)
	}
}

// mungeAmbiguous: alice's POSIX account is linked to two bridge users (on
// the dev cluster `determined` is linked to alice too); a munge login as
// alice must not pick one of them.
func mungeAmbiguous(t *testing.T) {
	asUser(t, "alice")
	admin := adminClient(t)
	// A new twin each run: the one of an earlier run is deactivated.
	twin := "sec-twin-" + randomWord(t)
	ensureUser(t, admin, twin, twin+"-password")
	t.Cleanup(func() {
		off := false
		_, _ = admin.PatchUserByName(context.Background(), twin, api.PatchUser{Active: &off})
	})
	if _, err := admin.PatchUserByName(ctxT(t, 10*time.Second), twin, linkTo("alice")); err != nil {
		t.Fatalf("link a second user to alice: %v", err)
	}
	c, err := mungeLogin(t, mungeCred(t, "alice", nil))
	wantRefused(t, "munge login of a POSIX user linked twice", err, []int{http.StatusForbidden, http.StatusConflict}, "several bridge users", "alice", twin)
	if err == nil {
		me, _ := c.Me(ctxT(t, 10*time.Second))
		t.Errorf("the bridge picked %+v", me)
	}
}

// mungeOtherService: bob's credential made by `munge -n` (as any other
// munge-authenticated service asks for) or for another service is
// replayed at the bridge: refused; one det makes for the bridge works.
func mungeOtherService(t *testing.T) {
	asUser(t, "bob")
	_, err := mungeLogin(t, mungeCred(t, "bob", strptr("")))
	wantRefused(t, "munge -n credential", err, []int{http.StatusUnauthorized}, "munge -n")
	_, err = mungeLogin(t, mungeCred(t, "bob", strptr("slurmrestd login")))
	wantRefused(t, "credential for another service", err, []int{http.StatusUnauthorized}, "slurmrestd login", "not for this bridge")
	_, err = mungeLogin(t, mungeCred(t, "bob", strptr(api.MungePayload("http://other-bridge.example:8080"))))
	wantRefused(t, "credential for another bridge", err, []int{http.StatusUnauthorized}, "not for this bridge")
	c, err := mungeLogin(t, mungeCred(t, "bob", nil))
	if err != nil {
		t.Fatalf("a credential det makes for this bridge: %v", err)
	}
	if me, err := c.Me(ctxT(t, 10*time.Second)); err != nil || me.Username != "bob" {
		t.Errorf("munge login as bob gave %+v: %v", me, err)
	}
}

// mungeStale: a credential for the bridge, kept for more than a minute
// before use (munge itself takes it for five), is refused.
func mungeStale(t *testing.T) {
	asUser(t, "bob")
	cred := mungeCred(t, "bob", nil)
	time.Sleep(65 * time.Second)
	_, err := mungeLogin(t, cred)
	wantRefused(t, "a credential 65 s old", err, []int{http.StatusUnauthorized}, "at most 1m0s old")
}

// passwordChangeEndsSessions: a user's own password change (with the
// login token: Determined's clients send no current password, so det
// checks it by logging in first) ends every other session of theirs, and
// the old password; an admin's reset ends them all. Determined's hashed
// login works with the new password.
func passwordChangeEndsSessions(t *testing.T) {
	admin := adminClient(t)
	name := fmt.Sprintf("sec-pw-%d", time.Now().UnixNano()%1e9)
	ensureUser(t, admin, name, "first-password")
	login := func(pass string) *client.Client {
		t.Helper()
		c := client.New(master, "")
		if _, err := c.Login(ctxT(t, 10*time.Second), name, pass); err != nil {
			t.Fatalf("log in as %s: %v", name, err)
		}
		return c
	}
	me := func(c *client.Client) error {
		_, err := c.Me(ctxT(t, 10*time.Second))
		return err
	}
	other, victim := login("first-password"), login("first-password")
	_, err := other.ChangeOwnPassword(ctxT(t, 10*time.Second), name, "guess", "stolen")
	wantRefused(t, "det's change with a wrong current password", err, []int{http.StatusForbidden}, "current password is wrong")
	if err := me(victim); err != nil {
		t.Fatalf("a refused change ended a session: %v", err)
	}
	if _, err := victim.ChangeOwnPassword(ctxT(t, 10*time.Second), name, "first-password", "second-password"); err != nil {
		t.Fatalf("change with the current password: %v", err)
	}
	if err := me(victim); err != nil {
		t.Errorf("the session that changed the password ended: %v", err)
	}
	if err := me(other); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("another session after the change: %v, want 401", err)
	}
	if _, err := client.New(master, "").Login(ctxT(t, 10*time.Second), name, "first-password"); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("the old password after the change: %v, want 401", err)
	}
	hashed := client.New(master, "")
	if _, err := hashed.LoginHashed(ctxT(t, 10*time.Second), name, "second-password"); err != nil {
		t.Errorf("Determined's hashed login with the new password: %v", err)
	}
	if err := admin.ChangePassword(ctxT(t, 10*time.Second), name, "", "third-password"); err != nil {
		t.Fatalf("an admin's reset: %v", err)
	}
	if err := me(victim); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("a session after an admin's reset: %v, want 401", err)
	}
	login("third-password")
}

// dbPath is the bridge's database, from the dev cluster's site config.
func dbPath(t *testing.T) string {
	t.Helper()
	cfg, err := siteconfig.Load(filepath.Join(repo, "site-configs", "devcluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.DBPath
}

// openDBReadOnly opens the bridge's database without writing to it.
func openDBReadOnly(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+dbPath(t)+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// taskTokenScope: alice reads the token her notebook's job holds (as code
// in the notebook can) and tries to create a user, change her password,
// relink and deactivate with it: refused. It works for the rest of the API
// and dies with the notebook.
func taskTokenScope(t *testing.T) {
	alice := asUser(t, "alice")
	nb := start(t, alice, cpuNotebook())
	var jobDir string
	if err := openDBReadOnly(t).QueryRow("SELECT job_dir FROM tasks WHERE id=?", nb.ID).Scan(&jobDir); err != nil {
		t.Fatalf("job folder of %s: %v", nb.ID, err)
	}
	out, err := runAs(t, "alice", "/bin/cat", filepath.Join(jobDir, "task.json"))
	if err != nil {
		t.Fatalf("alice reads her task.json: %v %s", err, out)
	}
	var spec jobspec.Spec
	if err := json.Unmarshal([]byte(out), &spec); err != nil || spec.UserToken == "" {
		t.Fatalf("task.json has no user token: %v", err)
	}
	task := client.New(master, spec.UserToken)
	if _, err := task.Me(ctxT(t, 10*time.Second)); err != nil {
		t.Fatalf("the task token does not work at all: %v", err)
	}
	forbidden := []int{http.StatusForbidden}
	_, err = task.CreateUser(ctxT(t, 10*time.Second), "sec-from-task", "x", true)
	wantRefused(t, "create a user with the task token", err, forbidden)
	wantRefused(t, "change the password with the task token",
		task.ChangePassword(ctxT(t, 10*time.Second), "alice", "", "owned"), forbidden)
	_, err = task.PatchUserByName(ctxT(t, 10*time.Second), "alice", linkTo("bob"))
	wantRefused(t, "relink with the task token", err, forbidden)
	off := false
	_, err = task.PatchUserByName(ctxT(t, 10*time.Second), "alice", api.PatchUser{Active: &off})
	wantRefused(t, "deactivate with the task token", err, forbidden)
	if _, err := alice.Login(ctxT(t, 10*time.Second), "alice", "alice-password"); err != nil {
		t.Errorf("alice's password changed: %v", err)
	}
	if _, err := alice.KillNotebook(ctxT(t, 30*time.Second), nb.ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, alice, nb.ID, api.StateTerminated, 2*time.Minute)
	if _, err := task.Me(ctxT(t, 10*time.Second)); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("the task token after the task ended: %v, want 401", err)
	}
}

// loginTiming: an attacker times logins to tell existing user names from
// missing ones. A wrong password and a missing user answer in about the
// same time (medians of 5 within a factor of 3).
func loginTiming(t *testing.T) {
	admin := adminClient(t)
	suffix := time.Now().UnixNano() % 1e9
	name := fmt.Sprintf("sec-timing-%d", suffix)
	ensureUser(t, admin, name, "right-password")
	median := func(user string) time.Duration {
		var d []time.Duration
		for i := 0; i < 5; i++ {
			t0 := time.Now()
			_, err := client.New(master, "").Login(ctxT(t, 10*time.Second), user, "wrong-password")
			d = append(d, time.Since(t0))
			if !errors.Is(err, client.ErrUnauthorized) {
				t.Fatalf("login %d as %s with a wrong password: %v, want 401", i, user, err)
			}
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[2]
	}
	wrong := median(name)
	missing := median(fmt.Sprintf("sec-nosuchuser-%d", suffix))
	t.Logf("median login: wrong password %s, missing user %s", wrong, missing)
	if missing*3 < wrong || wrong*3 < missing {
		t.Errorf("a wrong password answers in %s, a missing user in %s: the time tells which names exist", wrong, missing)
	}
}

// noPlainTokens: whoever reads the bridge's database (a backup, a copied
// file) finds no token to log in with: the current session's token is in
// no row and in no byte of the database's files; its hash is.
func noPlainTokens(t *testing.T) {
	c := asUser(t, "bob")
	if _, err := c.Me(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	db := openDBReadOnly(t)
	sum := sha256.Sum256([]byte(c.Token))
	var plain, hashed int
	if err := db.QueryRow("SELECT COUNT(*) FROM tokens WHERE hash=?", c.Token).Scan(&plain); err != nil {
		t.Fatalf("read tokens: %v", err)
	}
	if err := db.QueryRow("SELECT COUNT(*) FROM tokens WHERE hash=?", hex.EncodeToString(sum[:])).Scan(&hashed); err != nil {
		t.Fatal(err)
	}
	if plain != 0 || hashed != 1 {
		t.Errorf("rows with the plain token: %d (want 0), with its hash: %d (want 1)", plain, hashed)
	}
	p := dbPath(t)
	for _, f := range []string{p, p + "-wal"} {
		data, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(c.Token)) {
			t.Errorf("%s holds the plain token", f)
		}
	}
}

// longPassword: a password over the bridge's limit is a 400 that says why,
// not a 500, when created, reset or changed; one longer than bcrypt's 72
// bytes is fine (bcrypt stores a hash of it).
func longPassword(t *testing.T) {
	admin := adminClient(t)
	long := strings.Repeat("x", 1025)
	name := fmt.Sprintf("sec-long-%d", time.Now().UnixNano()%1e9)
	bad := []int{http.StatusBadRequest}
	_, err := admin.CreateUser(ctxT(t, 10*time.Second), name, long, false)
	wantRefused(t, "create with a 1025-byte password", err, bad, "at most 1024 bytes")
	ensureUser(t, admin, name, "short-password")
	wantRefused(t, "reset to a 1025-byte password", admin.ChangePassword(ctxT(t, 10*time.Second), name, "", long), bad, "at most 1024 bytes")
	c := client.New(master, "")
	if _, err := c.Login(ctxT(t, 10*time.Second), name, "short-password"); err != nil {
		t.Fatal(err)
	}
	_, err = c.ChangeOwnPassword(ctxT(t, 10*time.Second), name, "short-password", long)
	wantRefused(t, "change to a 1025-byte password", err, bad, "at most 1024 bytes")
	if _, err := c.ChangeOwnPassword(ctxT(t, 10*time.Second), name, "short-password", long[:100]); err != nil {
		t.Errorf("change to a 100-byte password: %v", err)
	}
	if _, err := client.New(master, "").Login(ctxT(t, 10*time.Second), name, long[:99]+"y"); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("a 100-byte password differing in its last byte logs in: %v", err)
	}
}
