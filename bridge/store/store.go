// Package store keeps the bridge's users, tokens, tasks, task events and
// audit trail and usage history in SQLite (WAL mode), so a restart loses
// nothing.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver
	"golang.org/x/crypto/bcrypt"
)

// ErrNotFound is returned when a row does not exist, or when an update's
// condition on the row's state no longer holds.
var ErrNotFound = errors.New("not found")

// Store is the SQLite-backed persistence of the bridge.
type Store struct {
	db *sql.DB
	// cost is bcrypt's cost for new password hashes.
	cost      int
	dummyOnce sync.Once
	dummy     []byte
}

var migrations = []string{
	`CREATE TABLE users (
		id INTEGER PRIMARY KEY,
		username TEXT NOT NULL UNIQUE,
		password_hash TEXT NOT NULL,
		admin INTEGER NOT NULL DEFAULT 0,
		active INTEGER NOT NULL DEFAULT 1,
		posix_user TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE tokens (
		token TEXT PRIMARY KEY,
		user_id INTEGER NOT NULL REFERENCES users(id),
		expires INTEGER NOT NULL
	);
	CREATE TABLE tasks (
		id TEXT PRIMARY KEY,
		type TEXT NOT NULL,
		owner TEXT NOT NULL,
		posix_user TEXT NOT NULL,
		description TEXT NOT NULL,
		state TEXT NOT NULL,
		reason TEXT NOT NULL DEFAULT '',
		pool TEXT NOT NULL,
		slots INTEGER NOT NULL,
		config TEXT NOT NULL,
		job_id TEXT NOT NULL DEFAULT '',
		node TEXT NOT NULL DEFAULT '',
		host TEXT NOT NULL DEFAULT '',
		port INTEGER NOT NULL DEFAULT 0,
		jupyter_token TEXT NOT NULL,
		secret TEXT NOT NULL,
		job_dir TEXT NOT NULL,
		registered_time INTEGER NOT NULL,
		end_time INTEGER NOT NULL DEFAULT 0,
		exit_code INTEGER
	);
	CREATE INDEX tasks_state ON tasks(state);
	CREATE TABLE events (
		id INTEGER PRIMARY KEY,
		task_id TEXT NOT NULL,
		time INTEGER NOT NULL,
		message TEXT NOT NULL
	);
	CREATE INDEX events_task ON events(task_id, id);`,
	// 2: tokens that belong to a task (the det CLI inside a notebook) die with it.
	`ALTER TABLE tokens ADD COLUMN task_id TEXT NOT NULL DEFAULT '';
	CREATE INDEX tokens_task ON tokens(task_id);`,
	// 3: the POSIX identity a bridge user is linked to, in full.
	`ALTER TABLE users ADD COLUMN agent_uid INTEGER NOT NULL DEFAULT -1;
	ALTER TABLE users ADD COLUMN agent_group TEXT NOT NULL DEFAULT '';
	ALTER TABLE users ADD COLUMN agent_gid INTEGER NOT NULL DEFAULT -1;`,
	// 4: each user's WebUI settings.
	`CREATE TABLE settings (
		user_id INTEGER PRIMARY KEY REFERENCES users(id),
		launch_shortcut TEXT NOT NULL
	);`,
	// 5: lists read tasks in registration order without sorting them.
	`CREATE INDEX tasks_list ON tasks(type, owner, registered_time);
	CREATE INDEX tasks_type ON tasks(type, registered_time);`,
	// 6: tokens are kept hashed (hashTokens, below).
	``,
	// 7: the key a task's launcher proves its port with ('' for tasks
	// submitted before: they are routed without the proof).
	`ALTER TABLE tasks ADD COLUMN proof_key TEXT NOT NULL DEFAULT '';`,
	// 8: how each password hash was made: rows before this hold bcrypt of
	// the password itself (schemePlain); new ones bcrypt of the salted
	// SHA-512 Determined's clients send (schemeSalted). A user may also
	// have a display name.
	`ALTER TABLE users ADD COLUMN password_scheme TEXT NOT NULL DEFAULT '` + schemePlain + `';
	ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';`,
	// 9: the cluster's id, made once (newClusterID, below).
	`CREATE TABLE cluster (id TEXT NOT NULL);`,
	// 10: task states take Determined's names (api.State*: STATE_RUNNING).
	`UPDATE tasks SET state = 'STATE_' || state
		WHERE state IN ('QUEUED', 'STARTING', 'RUNNING', 'TERMINATING', 'TERMINATED');`,
	// 11: how the proxy reaches each task (api.ProxyMode*); the tasks
	// before it hold a port on their node.
	`ALTER TABLE tasks ADD COLUMN proxy_mode TEXT NOT NULL DEFAULT 'direct';`,
	// 12: preempted tasks that come back (how often, and when last), time
	// added to running ones, and relaunches (the task a new one replaces,
	// and whether a task was launched with context files): addLifeColumns.
	``,
	// 13: the audit trail (audit.go), read by time.
	`CREATE TABLE audit (
		id INTEGER PRIMARY KEY,
		time INTEGER NOT NULL,
		actor TEXT NOT NULL,
		action TEXT NOT NULL,
		target TEXT NOT NULL,
		source TEXT NOT NULL,
		detail TEXT NOT NULL
	);
	CREATE INDEX audit_time ON audit(time);`,
	// 14: each pool's use, one row a minute (usage.go): GPUs allocated
	// and held idle, the queue waits of the jobs that started and the
	// cancellations by reason. Keyed by minute and pool, so a minute is
	// never written twice. IF NOT EXISTS: a database whose user_version
	// was set back migrates again.
	`CREATE TABLE IF NOT EXISTS usage_minutes (
		time INTEGER NOT NULL,
		pool TEXT NOT NULL,
		gpus_allocated INTEGER NOT NULL,
		gpus_idle INTEGER NOT NULL,
		queue_wait_p50 REAL,
		queue_wait_p95 REAL,
		cancel_idle INTEGER NOT NULL DEFAULT 0,
		cancel_user INTEGER NOT NULL DEFAULT 0,
		cancel_admin INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (time, pool)
	) WITHOUT ROWID;`,
	// 15: when each token was made: addTokenIssued.
	``,
	// 16: the Slurm cluster of each task's job ('' the local one), as job
	// ids repeat across clusters: addTaskCluster.
	``,
	// 17: the private key of each shell's SSH server: addTaskSSHKey.
	``,
	// 18: the host key of each shell's SSH server: addTaskSSHHostKey.
	``,
}

// migrationCode holds the steps of a migration that SQL alone cannot do,
// by migration number; each runs after that migration's SQL, in the same
// transaction.
var migrationCode = map[int]func(context.Context, *sql.Tx) error{
	6:  hashTokens,
	9:  newClusterID,
	12: addLifeColumns,
	15: addTokenIssued,
	16: addTaskCluster,
	17: addTaskSSHKey,
	18: addTaskSSHHostKey,
}

// scrubAfter are the migrations that remove secrets: once one has run, the
// file is rewritten so that no old page keeps them.
var scrubAfter = map[int]bool{6: true}

// Open opens (creating if needed) the database at path and migrates it.
func Open(path string) (*Store, error) {
	// The folder is made (0700) when it is missing and its parent is
	// there, as a master.yaml's default /var/lib/det-bridge is on a new
	// login node.
	if dir := filepath.Dir(path); dir != "." {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			if err := os.Mkdir(dir, 0o700); err != nil {
				return nil, fmt.Errorf("make the database's folder: %w", err)
			}
		}
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on&_synchronous=NORMAL&_secure_delete=on")
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	s := &Store{db: db, cost: bcrypt.DefaultCost}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate database %s: %w", path, err)
	}
	return s, nil
}

// SetPasswordCost sets the bcrypt cost of the passwords hashed from now on;
// Open sets bcrypt.DefaultCost. Tests lower it, which a site never should.
func (s *Store) SetPasswordCost(cost int) { s.cost = cost }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) migrate(ctx context.Context) error {
	var check string
	if err := s.db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil {
		return fmt.Errorf("the database cannot be read (is it an SQLite file?): %w", err)
	}
	if check != "ok" {
		return fmt.Errorf("the database is damaged (%s); restore it from a backup", check)
	}
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("the database has schema version %d, newer than this det-bridge knows (%d); run a det-bridge at least as new as the one that wrote it", version, len(migrations))
	}
	scrub := false
	for i := version; i < len(migrations); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if code := migrationCode[i+1]; code != nil {
			if err := code(ctx, tx); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
		scrub = scrub || scrubAfter[i+1]
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	if scrub && version > 0 {
		if _, err := s.db.ExecContext(ctx, "VACUUM"); err != nil {
			return fmt.Errorf("rewrite the database without its old pages: %w", err)
		}
		if _, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			return fmt.Errorf("rewrite the database without its old pages: %w", err)
		}
	}
	return nil
}
