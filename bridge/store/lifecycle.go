package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Requeued records that Slurm preempted a task's job and queued it again:
// the task is QUEUED with reason, holds no node or address until its job
// runs again, and counts one more restart at the time at. msg is its
// event. A TERMINATED task is never changed (ErrNotFound).
func (s *Store) Requeued(ctx context.Context, id, state, reason string, at time.Time, msg string) error {
	return s.inTx(ctx, id, msg, "UPDATE tasks SET state=?, reason=?, node='', host='', port=0, restarts=restarts+1, preempted_time=? WHERE id=? AND state != ?",
		state, reason, at.UnixNano(), id, terminated)
}

// RestartSeen counts a restart of a task's job that the bridge learned of
// only when the job ran again (it did not see it queued), at time at.
func (s *Store) RestartSeen(ctx context.Context, id string, at time.Time, msg string) error {
	return s.inTx(ctx, id, msg, "UPDATE tasks SET restarts=restarts+1, preempted_time=? WHERE id=? AND state != ?",
		at.UnixNano(), id, terminated)
}

// AddExtension counts one more extension of a live task and records msg
// as its event; it returns the new count.
func (s *Store) AddExtension(ctx context.Context, id, msg string) (int, error) {
	if err := s.inTx(ctx, id, msg, "UPDATE tasks SET extensions=extensions+1 WHERE id=? AND state != ?", id, terminated); err != nil {
		return 0, err
	}
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT extensions FROM tasks WHERE id=?", id).Scan(&n); err != nil {
		return 0, fmt.Errorf("read extensions of %s: %w", id, err)
	}
	return n, nil
}

// inTx runs one UPDATE of task id and records msg (when not empty) as its
// event, in one transaction; ErrNotFound when the update changed no row.
func (s *Store) inTx(ctx context.Context, id, msg, update string, args ...any) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("update task %s: %w", id, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, update, args...)
	if err != nil {
		return fmt.Errorf("update task %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if msg != "" {
		if _, err := tx.ExecContext(ctx, "INSERT INTO events(task_id, time, message) VALUES(?,?,?)", id, time.Now().UnixNano(), msg); err != nil {
			return fmt.Errorf("record event of %s: %w", id, err)
		}
	}
	return tx.Commit()
}

// column is a column a migration adds.
type column struct{ name, decl string }

// lifeColumns are the columns migration 12 adds to tasks.
var lifeColumns = []column{
	{"restarts", "INTEGER NOT NULL DEFAULT 0"},
	{"preempted_time", "INTEGER NOT NULL DEFAULT 0"},
	{"extensions", "INTEGER NOT NULL DEFAULT 0"},
	{"replaces", "TEXT NOT NULL DEFAULT ''"},
	{"has_context", "INTEGER NOT NULL DEFAULT 0"},
}

// addLifeColumns is migration 12.
func addLifeColumns(ctx context.Context, tx *sql.Tx) error {
	return addColumns(ctx, tx, "tasks", lifeColumns)
}

// addTokenIssued is migration 15: when each token was made, so that a
// change that needs a fresh login (one's own password) can tell; tokens
// made before read as old (0).
func addTokenIssued(ctx context.Context, tx *sql.Tx) error {
	return addColumns(ctx, tx, "tokens", []column{{"issued", "INTEGER NOT NULL DEFAULT 0"}})
}

// addTaskCluster is migration 16: the Slurm cluster of each task's job;
// tasks stored before it are the local cluster's (”).
func addTaskCluster(ctx context.Context, tx *sql.Tx) error {
	return addColumns(ctx, tx, "tasks", []column{{"cluster", "TEXT NOT NULL DEFAULT ''"}})
}

// addTaskSSHKey is migration 17: the private key of each shell's SSH
// server; tasks stored before it have no key, and serve no SSH.
func addTaskSSHKey(ctx context.Context, tx *sql.Tx) error {
	return addColumns(ctx, tx, "tasks", []column{{"ssh_key", "TEXT NOT NULL DEFAULT ''"}})
}

// addTaskSSHHostKey is migration 18: the host key of each shell's SSH
// server, made by the bridge so that clients can pin it.
func addTaskSSHHostKey(ctx context.Context, tx *sql.Tx) error {
	return addColumns(ctx, tx, "tasks", []column{{"ssh_host_key", "TEXT NOT NULL DEFAULT ''"}})
}

// addColumns adds the columns that table does not have yet (so a database
// whose user_version was set back migrates again).
func addColumns(ctx context.Context, tx *sql.Tx, table string, cols []column) error {
	rows, err := tx.QueryContext(ctx, "SELECT name FROM pragma_table_info(?)", table)
	if err != nil {
		return fmt.Errorf("read the columns of %s: %w", table, err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		have[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range cols {
		if have[c.name] {
			continue
		}
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+table+" ADD COLUMN "+c.name+" "+c.decl); err != nil {
			return fmt.Errorf("add column %s to %s: %w", c.name, table, err)
		}
	}
	return nil
}
