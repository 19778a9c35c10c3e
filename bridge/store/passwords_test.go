package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/det-slurm/bridge/api"
)

func hashOf(pw string) string { return api.PasswordHash(pw) }

// scheme returns the password scheme of a user's row.
func scheme(t *testing.T, s *Store, name string) string {
	t.Helper()
	var sc string
	if err := s.db.QueryRow("SELECT password_scheme FROM users WHERE username=?", name).Scan(&sc); err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestLoginBothForms: a new row takes the password itself and
// Determined's salted hash of it, in either case of hex digits.
func TestLoginBothForms(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	s.CreateUser(ctx, "alice", Plain("Passw0rd!"), false)
	s.CreateUser(ctx, "bob", Password{Text: hashOf("Bob-passw0rd"), Hashed: true}, false)
	if sc := scheme(t, s, "alice"); sc != schemeSalted {
		t.Fatalf("a new row's scheme: %q", sc)
	}
	for _, c := range []struct {
		user string
		pw   Password
		ok   bool
	}{
		{"alice", Plain("Passw0rd!"), true},
		{"alice", Password{Text: hashOf("Passw0rd!"), Hashed: true}, true},
		{"alice", Password{Text: upper(hashOf("Passw0rd!")), Hashed: true}, true},
		{"alice", Plain(hashOf("Passw0rd!")), false},
		{"alice", Password{Text: hashOf("wrong"), Hashed: true}, false},
		{"bob", Plain("Bob-passw0rd"), true},
		{"bob", Password{Text: hashOf("Bob-passw0rd"), Hashed: true}, true},
		{"bob", Plain("wrong"), false},
	} {
		_, _, err := s.Login(ctx, c.user, c.pw, time.Hour)
		if c.ok && err != nil || !c.ok && !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s with %+v: %v, want ok=%t", c.user, c.pw, err, c.ok)
		}
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// TestOldSchemeRows: a database of schema 7 holds bcrypt of passwords
// themselves. After the migration, a hashed login of such a row fails
// saying to log in once with the password; a login with the password
// works and rewrites the row, after which both forms work. The empty
// password is its own hash, so Determined's default login works at once.
func TestOldSchemeRows(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "old.db")
	db := schemaAt(t, p, 7)
	for _, u := range []struct{ name, pw string }{{"alice", "Old-passw0rd"}, {"carol", "Carol-passw0rd"}, {"determined", ""}} {
		h, _ := bcrypt.GenerateFromPassword([]byte(u.pw), bcrypt.MinCost)
		if _, err := db.Exec("INSERT INTO users(username, password_hash) VALUES(?,?)", u.name, string(h)); err != nil {
			t.Fatal(err)
		}
	}
	db.Exec("INSERT INTO users(username, password_hash, active) VALUES('gone', ?, 0)", "x")
	db.Close()

	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.cost = bcrypt.MinCost
	if sc := scheme(t, s, "alice"); sc != schemePlain {
		t.Fatalf("a migrated row's scheme: %q", sc)
	}
	hashed := Password{Text: hashOf("Old-passw0rd"), Hashed: true}
	if _, _, err := s.Login(ctx, "alice", hashed, time.Hour); !errors.Is(err, ErrPasswordLoginNeeded) {
		t.Fatalf("hashed login of an old row: %v", err)
	}
	if _, _, err := s.Login(ctx, "alice", Password{Text: hashOf("wrong"), Hashed: true}, time.Hour); !errors.Is(err, ErrPasswordLoginNeeded) {
		t.Fatalf("a wrong hashed password of an old row: %v", err)
	}
	if _, _, err := s.Login(ctx, "alice", Plain("wrong"), time.Hour); !errors.Is(err, ErrBadCredentials) || scheme(t, s, "alice") != schemePlain {
		t.Fatalf("a wrong password of an old row: %v; scheme %s", err, scheme(t, s, "alice"))
	}
	if _, _, err := s.Login(ctx, "alice", Plain("Old-passw0rd"), time.Hour); err != nil {
		t.Fatalf("login with the password of an old row: %v", err)
	}
	if sc := scheme(t, s, "alice"); sc != schemeSalted {
		t.Fatalf("after a login with the password the scheme is %q", sc)
	}
	for _, pw := range []Password{hashed, Plain("Old-passw0rd")} {
		if _, _, err := s.Login(ctx, "alice", pw, time.Hour); err != nil {
			t.Errorf("after the upgrade, %+v: %v", pw, err)
		}
	}
	if _, _, err := s.Login(ctx, "alice", Plain("wrong"), time.Hour); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("after the upgrade, a wrong password: %v", err)
	}
	// Determined's CLI logs in as determined with "" marked hashed.
	if _, _, err := s.Login(ctx, "determined", Password{Hashed: true}, time.Hour); err != nil {
		t.Errorf("the empty password, hashed, of an old row: %v", err)
	}
	if sc := scheme(t, s, "determined"); sc != schemeSalted {
		t.Errorf("the empty password's row after login: %q", sc)
	}
	if empty, err := s.HasEmptyPassword(ctx, "determined"); err != nil || !empty {
		t.Errorf("HasEmptyPassword after the upgrade: %t %v", empty, err)
	}
	if empty, _ := s.HasEmptyPassword(ctx, "carol"); empty {
		t.Error("carol's old row has an empty password")
	}
	if _, _, err := s.Login(ctx, "gone", Password{Text: hashOf("x"), Hashed: true}, time.Hour); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("hashed login of an inactive old row: %v (it must not tell the account exists)", err)
	}
	id, err := s.ClusterID(ctx)
	if err != nil || len(id) != 36 {
		t.Errorf("cluster id %q: %v", id, err)
	}
}

// TestPatchUser: renames move the user's ended tasks along and are
// refused while a task lives or onto a taken name; deactivation revokes
// every token.
func TestPatchUser(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	u, _ := s.CreateUser(ctx, "alice", Plain("pw"), false)
	s.CreateUser(ctx, "bob", Plain("pw"), false)
	s.InsertTask(ctx, &Task{ID: "t1", Type: "notebook", Owner: "alice", PosixUser: "alice", State: api.StateRunning,
		Pool: "cpu", Config: "{}", JupyterToken: "j", Secret: "s", JobDir: "/j", RegisteredTime: time.Now()})
	name := "alice2"
	if _, err := s.PatchUser(ctx, u.ID, UserPatch{Username: &name}); !errors.Is(err, ErrLiveTasks) {
		t.Fatalf("rename with a live task: %v", err)
	}
	s.UpdateTask(ctx, "t1", Update{State: api.StateTerminated}, "")
	taken := "bob"
	if _, err := s.PatchUser(ctx, u.ID, UserPatch{Username: &taken}); !errors.Is(err, ErrUserExists) {
		t.Fatalf("rename onto bob: %v", err)
	}
	dn, admin := "Alice A.", true
	got, err := s.PatchUser(ctx, u.ID, UserPatch{Username: &name, DisplayName: &dn, Admin: &admin, Agent: &Agent{User: "alice", UID: 2001, Group: "alice", GID: 2001}})
	if err != nil || got.Username != name || got.DisplayName != dn || !got.Admin || got.PosixUser != "alice" || got.AgentUID != 2001 || got.AgentGID != 2001 || got.AgentGrp != "alice" {
		t.Fatalf("patch: %v %+v", err, got)
	}
	if task, _ := s.GetTask(ctx, "t1"); task.Owner != name {
		t.Errorf("the task's owner after the rename: %s", task.Owner)
	}
	tok, _, err := s.Login(ctx, name, Plain("pw"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	off := false
	if _, err := s.PatchUser(ctx, u.ID, UserPatch{Active: &off}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByToken(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Errorf("a deactivated user's token: %v", err)
	}
}
