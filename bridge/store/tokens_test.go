package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/det-slurm/bridge/api"
)

// TestTokensStoredHashed: the database holds the SHA-256 of a token, never
// the token, in its rows or anywhere in its files.
func TestTokensStoredHashed(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "t.db")
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.cost = bcrypt.MinCost
	if err := s.EnsureDefaultUsers(ctx); err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.Login(ctx, "admin", Plain(""), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := s.db.QueryRowContext(ctx, "SELECT hash FROM tokens").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != hashToken(tok) || strings.Contains(stored, tok) {
		t.Fatalf("stored %q for token %q", stored, tok)
	}
	for _, f := range []string{p, p + "-wal"} {
		data, _ := os.ReadFile(f)
		if bytes.Contains(data, []byte(tok)) {
			t.Errorf("%s holds the plain token", filepath.Base(f))
		}
	}
	if _, err := s.UserByToken(ctx, tok); err != nil {
		t.Fatalf("the token does not work: %v", err)
	}
	if _, err := s.UserByToken(ctx, stored); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the stored hash works as a token: %v", err)
	}
}

// TestMigrationHashesTokens: a database of schema 5 with plain tokens is
// migrated: its live tokens keep working, hashed; expired ones go; no
// plain token is left in the file.
func TestMigrationHashesTokens(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite3", "file:"+p+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:5] {
		if _, err := db.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	live, expired := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	for _, q := range []string{
		"INSERT INTO users(id, username, password_hash) VALUES(1, 'alice', 'x')",
		"INSERT INTO tokens(token, user_id, expires) VALUES('" + live + "', 1, 4000000000)",
		"INSERT INTO tokens(token, user_id, expires) VALUES('" + expired + "', 1, 1000)",
		"PRAGMA user_version = 5",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()

	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if u, err := s.UserByToken(ctx, live); err != nil || u.Username != "alice" {
		t.Fatalf("a live token after the migration: %v %+v", err, u)
	}
	var n int
	s.db.QueryRow("SELECT COUNT(*) FROM tokens").Scan(&n)
	if n != 1 {
		t.Errorf("%d tokens after the migration, want 1 (the expired one pruned)", n)
	}
	for _, f := range []string{p, p + "-wal"} {
		data, _ := os.ReadFile(f)
		for _, tok := range []string{live, expired} {
			if bytes.Contains(data, []byte(tok)) {
				t.Errorf("%s still holds a plain token", filepath.Base(f))
			}
		}
	}
}

// TestPruneTokens: expired tokens and those of ended or missing tasks are
// deleted; the others stay.
func TestPruneTokens(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	u, err := s.CreateUser(ctx, "alice", Plain("pw"), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"live", "ended"} {
		if err := s.InsertTask(ctx, &Task{ID: id, Type: "notebook", Owner: "alice", PosixUser: "alice", State: api.StateRunning,
			Pool: "cpu", Config: "{}", JupyterToken: "j", Secret: "s", JobDir: "/j", RegisteredTime: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.UpdateTask(ctx, "ended", Update{State: api.StateTerminated}, ""); err != nil {
		t.Fatal(err)
	}
	keep, _ := s.NewToken(ctx, u.ID, "", time.Hour)
	keepTask, _ := s.NewToken(ctx, u.ID, "live", time.Hour)
	s.NewToken(ctx, u.ID, "", -time.Second)
	s.NewToken(ctx, u.ID, "ended", time.Hour)
	s.NewToken(ctx, u.ID, "gone", time.Hour)
	n, err := s.PruneTokens(ctx, time.Now())
	if err != nil || n != 3 {
		t.Fatalf("pruned %d (%v), want 3", n, err)
	}
	for _, tok := range []string{keep, keepTask} {
		if _, err := s.UserByToken(ctx, tok); err != nil {
			t.Errorf("a live token was pruned: %v", err)
		}
	}
}

// TestTaskTokenDiesWithTask: a task's token carries its task and stops
// working when the task ends, revoked or not.
func TestTaskTokenDiesWithTask(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	u, _ := s.CreateUser(ctx, "alice", Plain("pw"), false)
	if err := s.InsertTask(ctx, &Task{ID: "t1", Type: "notebook", Owner: "alice", PosixUser: "alice", State: api.StateQueued,
		Pool: "cpu", Config: "{}", JupyterToken: "j", Secret: "s", JobDir: "/j", RegisteredTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	tok, _ := s.NewToken(ctx, u.ID, "t1", time.Hour)
	ses, err := s.SessionByToken(ctx, tok)
	if err != nil || ses.TaskID != "t1" || ses.User.Username != "alice" {
		t.Fatalf("task token: %v %+v", err, ses)
	}
	login, _, _ := s.Login(ctx, "alice", Plain("pw"), time.Hour)
	if ses, err := s.SessionByToken(ctx, login); err != nil || ses.TaskID != "" {
		t.Fatalf("login token: %v %+v", err, ses)
	}
	if err := s.UpdateTask(ctx, "t1", Update{State: api.StateTerminated}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByToken(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the token of an ended task works: %v", err)
	}
}

// TestPasswordChangeRevokes: a user's password change revokes every token
// of the user but the session's that made it; an admin's reset revokes
// them all.
func TestPasswordChangeRevokes(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	u, _ := s.CreateUser(ctx, "alice", Plain("old"), false)
	s.InsertTask(ctx, &Task{ID: "t1", Type: "notebook", Owner: "alice", PosixUser: "alice", State: api.StateRunning,
		Pool: "cpu", Config: "{}", JupyterToken: "j", Secret: "s", JobDir: "/j", RegisteredTime: time.Now()})
	current, _, _ := s.Login(ctx, "alice", Plain("old"), time.Hour)
	other, _, _ := s.Login(ctx, "alice", Plain("old"), time.Hour)
	task, _ := s.NewToken(ctx, u.ID, "t1", time.Hour)
	pw := Plain("new")
	if _, err := s.PatchUser(ctx, u.ID, UserPatch{Password: &pw, KeepToken: current}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByToken(ctx, current); err != nil {
		t.Errorf("the session that changed the password was revoked: %v", err)
	}
	for _, tok := range []string{other, task} {
		if _, err := s.UserByToken(ctx, tok); !errors.Is(err, ErrNotFound) {
			t.Errorf("another token survived the change: %v", err)
		}
	}
	if _, _, err := s.Login(ctx, "alice", Plain("old"), time.Hour); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("the old password still logs in: %v", err)
	}
	if err := s.SetPassword(ctx, "alice", Plain("reset")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByToken(ctx, current); !errors.Is(err, ErrNotFound) {
		t.Errorf("a token survived an admin's reset: %v", err)
	}
	if _, err := s.PatchUser(ctx, 999, UserPatch{Password: &pw}); !errors.Is(err, ErrNotFound) {
		t.Errorf("change for a missing user: %v", err)
	}
}

// TestPasswordBounds: a password is at most MaxPasswordBytes long (longer
// than bcrypt's 72, which it never sees); a hashed one is a SHA-512's hex.
func TestPasswordBounds(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	long := strings.Repeat("p", MaxPasswordBytes+1)
	if _, err := s.CreateUser(ctx, "alice", Plain(long), false); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("create: %v", err)
	}
	if _, err := s.CreateUser(ctx, "alice", Plain(long[:MaxPasswordBytes]), false); err != nil {
		t.Fatalf("%d bytes: %v", MaxPasswordBytes, err)
	}
	if _, _, err := s.Login(ctx, "alice", Plain(long[:MaxPasswordBytes]), time.Hour); err != nil {
		t.Fatalf("log in with %d bytes: %v", MaxPasswordBytes, err)
	}
	if _, _, err := s.Login(ctx, "alice", Plain(long[:MaxPasswordBytes-1]+"q"), time.Hour); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("a password differing in its last byte: %v", err)
	}
	if err := s.SetPassword(ctx, "alice", Plain(long)); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("set: %v", err)
	}
	for _, h := range []string{"abc", strings.Repeat("g", 128), strings.Repeat("a", 127)} {
		if _, err := s.CreateUser(ctx, "bob", Password{Text: h, Hashed: true}, false); !errors.Is(err, ErrBadPasswordHash) {
			t.Errorf("create with hash %q: %v", h, err)
		}
	}
}

// TestLoginTimeDoesNotTellUsers: a login naming no user costs a bcrypt
// comparison like a wrong password.
func TestLoginTimeDoesNotTellUsers(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	s.cost = bcrypt.MinCost + 2
	s.CreateUser(ctx, "alice", Plain("pw"), false)
	median := func(name string) time.Duration {
		var d []time.Duration
		for i := 0; i < 5; i++ {
			t0 := time.Now()
			if _, _, err := s.Login(ctx, name, Plain("wrong"), time.Hour); !errors.Is(err, ErrBadCredentials) {
				t.Fatal(err)
			}
			d = append(d, time.Since(t0))
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[2]
	}
	wrong, missing := median("alice"), median("mallory")
	if missing*3 < wrong || wrong*3 < missing {
		t.Fatalf("wrong password %s, missing user %s", wrong, missing)
	}
}

func TestUserByAgentNeverPicks(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	for _, n := range []string{"alice", "admin2", "old"} {
		s.CreateUser(ctx, n, Plain("pw"), n == "admin2")
	}
	s.LinkAgent(ctx, "alice", "alice", 2001, "", 2001)
	if u, err := s.UserByAgent(ctx, 2001, "alice"); err != nil || u.Username != "alice" {
		t.Fatalf("one link: %v %+v", err, u)
	}
	s.LinkAgent(ctx, "old", "alice", -1, "", -1)
	old, _ := s.UserByName(ctx, "old")
	inactive := false
	s.PatchUser(ctx, old.ID, UserPatch{Active: &inactive})
	if u, err := s.UserByAgent(ctx, 2001, "alice"); err != nil || u.Username != "alice" {
		t.Fatalf("a deactivated second link: %v %+v", err, u)
	}
	s.LinkAgent(ctx, "admin2", "alice", 2001, "", 2001)
	_, err := s.UserByAgent(ctx, 2001, "alice")
	var amb *AmbiguousAgentError
	if !errors.As(err, &amb) || !errors.Is(err, ErrAmbiguousAgent) || strings.Join(amb.Users, ",") != "admin2,alice" {
		t.Fatalf("two links: %v", err)
	}
	if _, err := s.UserByAgent(ctx, 2002, "bob"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no link: %v", err)
	}
}
