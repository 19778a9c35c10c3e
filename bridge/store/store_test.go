package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/jobspec"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.cost = bcrypt.MinCost
	return s
}

func TestUsersAndTokens(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	if err := s.EnsureDefaultUsers(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureDefaultUsers(ctx); err != nil {
		t.Fatal("second call must be a no-op:", err)
	}
	tok, u, err := s.Login(ctx, "admin", Plain(""), time.Hour)
	if err != nil || !u.Admin {
		t.Fatalf("login admin: %v %+v", err, u)
	}
	if _, _, err := s.Login(ctx, "admin", Plain("wrong"), time.Hour); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	got, err := s.UserByToken(ctx, tok)
	if err != nil || got.Username != "admin" {
		t.Fatalf("by token: %v %+v", err, got)
	}
	expired, _, _ := s.Login(ctx, "determined", Plain(""), -time.Second)
	if _, err := s.UserByToken(ctx, expired); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired token accepted: %v", err)
	}
}

func TestTaskLifecycle(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	task := &Task{ID: "abc-1", Type: "notebook", Owner: "admin", PosixUser: "alice", Description: "d", State: api.StateQueued,
		Pool: "gpu", Slots: 1, Config: "{}", JupyterToken: "t", Secret: "s", JobDir: "/j", RegisteredTime: time.Now()}
	if err := s.InsertTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateTask(ctx, "abc-1", Update{State: api.StateRunning, Host: "127.0.0.1", Port: 5}, "started"); err != nil {
		t.Fatal(err)
	}
	code := 0
	if err := s.UpdateTask(ctx, "abc-1", Update{State: api.StateTerminated, Reason: "killed by user", ExitCode: &code}, "killed"); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateTask(ctx, "abc-1", Update{State: api.StateRunning}, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a terminated task changed: %v", err)
	}
	got, err := s.GetTask(ctx, "abc-1")
	if err != nil || got.State != api.StateTerminated || got.Port != 5 || got.ExitCode == nil || got.EndTime.IsZero() {
		t.Fatalf("got %+v %v", got, err)
	}
	ev, _ := s.Events(ctx, "abc-1", 0)
	if len(ev) != 2 || ev[1].Message != "killed" {
		t.Fatalf("events %+v", ev)
	}
	if ts, _ := s.TasksByPrefix(ctx, "ab"); len(ts) != 1 {
		t.Fatalf("prefix: %d", len(ts))
	}
	if live, _ := s.LiveTasks(ctx); len(live) != 0 {
		t.Fatalf("live: %d", len(live))
	}
}

func TestRefusesNewerOrDamaged(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "new.db")
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	s.db.Exec("PRAGMA user_version = 99")
	s.Close()
	if _, err := Open(p); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("newer schema: %v", err)
	}
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("not a database ", 1000)), 0o600)
	if _, err := Open(junk); err == nil {
		t.Fatal("a file that is not a database was opened")
	}
}

// TestProofKey: a task's proof key is stored and read back; a database
// from just before the migration that adds it gains the column, its tasks
// with an empty key.
func TestProofKey(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "old.db")
	old := &Task{ID: "old-1", Type: "notebook", Owner: "admin", PosixUser: "alice", Description: "d", State: "RUNNING",
		Pool: "gpu", Config: "{}", JupyterToken: "t", Secret: "s", JobDir: "/j", RegisteredTime: time.Now()}
	before := -1
	for i, m := range migrations {
		if strings.Contains(m, "proof_key") {
			before = i
		}
	}
	if before < 0 {
		t.Fatal("no migration adds proof_key")
	}
	db := schemaAt(t, p, before)
	if _, err := db.Exec(`INSERT INTO tasks(id, type, owner, posix_user, description, state, pool, slots, config, jupyter_token, secret, job_dir, registered_time)
		VALUES('old-1', 'notebook', 'admin', 'alice', 'd', 'RUNNING', 'gpu', 0, '{}', 't', 's', '/j', ?)`, old.RegisteredTime.UnixNano()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(p)
	if err != nil {
		t.Fatalf("migrate from schema %d: %v", before, err)
	}
	defer s.Close()
	if got, err := s.GetTask(ctx, "old-1"); err != nil || got.ProofKey != "" {
		t.Fatalf("task from before the migration: %+v %v", got, err)
	}
	nt := *old
	nt.ID, nt.ProofKey = "new-1", "k3y"
	if err := s.InsertTask(ctx, &nt); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetTask(ctx, "new-1"); err != nil || got.ProofKey != "k3y" {
		t.Fatalf("new task: %+v %v", got, err)
	}
	if live, _ := s.LiveTasks(ctx); len(live) != 2 || live[1].ProofKey != "k3y" {
		t.Fatalf("live tasks: %+v", live)
	}
}

// schemaAt makes a database at path of schema n: the first n migrations
// run, as a det-bridge of that time left it.
func schemaAt(t *testing.T, path string, n int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, m := range migrations[:n] {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(m); err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
		if code := migrationCode[i+1]; code != nil {
			if err := code(ctx, tx); err != nil {
				t.Fatalf("migration %d: %v", i+1, err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", n)); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestStateMigration: a database from before Determined's state names
// gains them, and a task that had ended before still counts as ended
// (its tokens stay dead, it is not live).
func TestStateMigration(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	s.SetPasswordCost(bcrypt.MinCost)
	u, err := s.CreateUser(ctx, "alice", Plain("pw"), false)
	if err != nil {
		t.Fatal(err)
	}
	old := map[string]string{"q": "QUEUED", "s": "STARTING", "r": "RUNNING", "g": "TERMINATING", "t": "TERMINATED"}
	for id := range old {
		if err := s.InsertTask(ctx, &Task{ID: id, Type: "notebook", Owner: "alice", PosixUser: "alice", State: "x",
			Pool: "gpu", Config: "{}", JupyterToken: "t", Secret: "s", JobDir: "/j", RegisteredTime: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := s.NewToken(ctx, u.ID, "t", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	before := -1
	for i, m := range migrations {
		if strings.Contains(m, "'STATE_' || state") {
			before = i
		}
	}
	if before < 0 {
		t.Fatal("no migration renames the states")
	}
	for id, st := range old {
		if _, err := s.db.Exec("UPDATE tasks SET state=? WHERE id=?", st, id); err != nil {
			t.Fatal(err)
		}
	}
	// Undo what the later migrations added, so that they run again.
	for _, undo := range []string{"ALTER TABLE tasks DROP COLUMN proxy_mode", "DROP TABLE audit"} {
		if _, err := s.db.Exec(undo); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", before)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(p); err != nil {
		t.Fatalf("migrate from schema %d: %v", before, err)
	}
	defer s.Close()
	for id, st := range old {
		if got, err := s.GetTask(ctx, id); err != nil || got.State != "STATE_"+st {
			t.Errorf("task %s (%s): %+v %v", id, st, got, err)
		}
	}
	if live, _ := s.LiveTasks(ctx); len(live) != 4 {
		t.Errorf("%d live tasks, want 4", len(live))
	}
	if got, err := s.GetTask(ctx, "r"); err != nil || got.ProxyMode != jobspec.ProxyModeDirect {
		t.Errorf("a task from before proxy modes: %+v %v, want direct", got, err)
	}
	if _, err := s.SessionByToken(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Errorf("the token of a task that had ended works after the migration: %v", err)
	}
	if err := s.UpdateTask(ctx, "t", Update{State: api.StateRunning}, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("a terminated task changed: %v", err)
	}
}
