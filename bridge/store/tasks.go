package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/jobspec"
)

// terminated is the state of a task that has ended; such a task never
// changes again.
const terminated = api.StateTerminated

// Task is one notebook (or later, shell) task and its Slurm handle.
type Task struct {
	ID             string
	Type           string
	Owner          string
	PosixUser      string
	Description    string
	State          string
	Reason         string
	Pool           string
	Slots          int
	Config         string // the merged config, JSON
	JobID          string
	Node           string
	Host           string
	Port           int
	JupyterToken   string
	Secret         string
	ProofKey       string // answers the bridge's check of the notebook's port; never sent anywhere
	ProxyMode      string // api.ProxyModeTunnel or api.ProxyModeDirect
	JobDir         string
	RegisteredTime time.Time
	EndTime        time.Time
	ExitCode       *int
	// OwnerID is the owner's user id, read from the users table; 0 when
	// that account no longer exists.
	OwnerID int64
	// Restarts counts the times Slurm preempted the task's job and queued
	// it again; PreemptedTime is the last of them (zero when none).
	Restarts      int
	PreemptedTime time.Time
	// Extensions counts the times time was added to the task's job.
	Extensions int
	// Replaces is the task this one relaunched ("" for none); HasContext
	// says it was launched with context files (context.tar.gz).
	Replaces   string
	HasContext bool
	// Cluster is the Slurm cluster the job was submitted to ("" the
	// local one); JobID is an id in that cluster.
	Cluster string
	// SSHKey is the OpenSSH private key a shell's SSH server accepts,
	// made by the bridge at launch; "" for a notebook (and for shells
	// stored before migration 17).
	SSHKey string
	// SSHHostKey is the OpenSSH private host key of the shell's SSH
	// server, made by the bridge at launch so that clients can pin its
	// public half; "" where SSHKey is, and for shells stored before
	// migration 18 (their server makes one at start).
	SSHHostKey string
}

const taskCols = "id, type, owner, posix_user, description, state, reason, pool, slots, config, job_id, node, host, port, jupyter_token, secret, job_dir, registered_time, end_time, exit_code, proof_key, proxy_mode, cluster, ssh_key, ssh_host_key, " + lifeCols

// lifeCols are what a task went through: preemptions, extensions and the
// task it relaunched.
const lifeCols = "restarts, preempted_time, extensions, replaces, has_context"

// ownerIDCol is the owner's user id, by the users table's unique index
// on username.
const ownerIDCol = "(SELECT u.id FROM users u WHERE u.username=tasks.owner)"

// taskSelect is what a read of whole tasks selects: taskCols and the
// owner's id.
const taskSelect = taskCols + ", " + ownerIDCol

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(...any) error }

func scanTask(row rowScanner) (*Task, error) {
	var t Task
	var reg, end, preempted int64
	var exit, ownerID sql.NullInt64
	err := row.Scan(&t.ID, &t.Type, &t.Owner, &t.PosixUser, &t.Description, &t.State, &t.Reason, &t.Pool, &t.Slots,
		&t.Config, &t.JobID, &t.Node, &t.Host, &t.Port, &t.JupyterToken, &t.Secret, &t.JobDir, &reg, &end, &exit, &t.ProofKey, &t.ProxyMode,
		&t.Cluster, &t.SSHKey, &t.SSHHostKey, &t.Restarts, &preempted, &t.Extensions, &t.Replaces, &t.HasContext, &ownerID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	t.PreemptedTime = unixOrZero(preempted)
	t.RegisteredTime = time.Unix(0, reg)
	if end != 0 {
		t.EndTime = time.Unix(0, end)
	}
	t.ExitCode = exitCode(exit)
	t.OwnerID = ownerID.Int64
	return &t, nil
}

// scanListed reads a row of listCols.
func scanListed(row rowScanner) (*Task, error) {
	var t Task
	var reg, preempted int64
	var exit, ownerID sql.NullInt64
	if err := row.Scan(&t.ID, &t.Owner, &t.Description, &t.State, &t.Reason, &t.Pool, &t.Slots, &t.JobID, &t.Cluster, &t.Node, &reg, &exit,
		&t.Restarts, &preempted, &t.Extensions, &t.Replaces, &t.HasContext, &ownerID); err != nil {
		return nil, err
	}
	t.PreemptedTime = unixOrZero(preempted)
	t.RegisteredTime = time.Unix(0, reg)
	t.ExitCode = exitCode(exit)
	t.OwnerID = ownerID.Int64
	return &t, nil
}

// unixOrZero is a stored time in nanoseconds, with 0 as the zero time.
func unixOrZero(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// exitCode is a task's exit code; nil while it has none.
func exitCode(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	c := int(v.Int64)
	return &c
}

// InsertTask stores a new task.
func (s *Store) InsertTask(ctx context.Context, t *Task) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO tasks("+taskCols+") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		t.ID, t.Type, t.Owner, t.PosixUser, t.Description, t.State, t.Reason, t.Pool, t.Slots, t.Config, t.JobID,
		t.Node, t.Host, t.Port, t.JupyterToken, t.Secret, t.JobDir, t.RegisteredTime.UnixNano(), 0, nil, t.ProofKey, proxyMode(t.ProxyMode),
		t.Cluster, t.SSHKey, t.SSHHostKey, 0, 0, 0, t.Replaces, t.HasContext)
	if err != nil {
		return fmt.Errorf("insert task %s: %w", t.ID, err)
	}
	return nil
}

// proxyMode is the mode a task is stored with: direct unless it says
// otherwise.
func proxyMode(m string) string {
	if m == "" {
		return jobspec.ProxyModeDirect
	}
	return m
}

// DeleteTask removes a task and its events (used to undo a failed submit).
func (s *Store) DeleteTask(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM events WHERE task_id=?", id); err != nil {
		return fmt.Errorf("delete events of %s: %w", id, err)
	}
	if _, err := s.db.ExecContext(ctx, "DELETE FROM tasks WHERE id=?", id); err != nil {
		return fmt.Errorf("delete task %s: %w", id, err)
	}
	return nil
}

// GetTask returns one task.
func (s *Store) GetTask(ctx context.Context, id string) (*Task, error) {
	return scanTask(s.db.QueryRowContext(ctx, "SELECT "+taskSelect+" FROM tasks WHERE id=?", id))
}

// TasksByPrefix returns the tasks whose id starts with prefix.
func (s *Store) TasksByPrefix(ctx context.Context, prefix string) ([]*Task, error) {
	prefix = strings.NewReplacer("%", "", "_", "").Replace(prefix)
	return s.queryTasks(ctx, scanTask, "SELECT "+taskSelect+" FROM tasks WHERE id LIKE ? ORDER BY registered_time LIMIT 10", prefix+"%")
}

// listCols are the columns a list shows: not the config, the secrets or
// the paths, which a list of thousands of tasks would read for nothing.
const listCols = "id, owner, description, state, reason, pool, slots, job_id, cluster, node, registered_time, exit_code, " + lifeCols + ", " + ownerIDCol

// TaskFilter selects the tasks a list shows: those of type Type whose
// owner is named in Owners or has a user id in OwnerIDs. With both empty,
// every owner's tasks are listed.
type TaskFilter struct {
	Type     string
	Owners   []string
	OwnerIDs []int64
}

// ListTasks returns the tasks f selects, oldest first. Only the fields a
// list shows are filled: ID, Type, Owner, OwnerID, Description, State,
// Reason, Pool, Slots, JobID, Node, RegisteredTime, ExitCode and what the
// task went through (Restarts, PreemptedTime, Extensions, Replaces,
// HasContext).
func (s *Store) ListTasks(ctx context.Context, f TaskFilter) ([]*Task, error) {
	q, args := "SELECT "+listCols+" FROM tasks WHERE type=?", []any{f.Type}
	switch {
	case len(f.Owners) == 1 && len(f.OwnerIDs) == 0:
		// One owner: read through the (type, owner, registered_time) index.
		q += " AND owner=?"
		args = append(args, f.Owners[0])
	case len(f.Owners) > 0 || len(f.OwnerIDs) > 0:
		q += " AND (owner IN (" + placeholders(len(f.Owners)) + ") OR owner IN (SELECT username FROM users WHERE id IN (" + placeholders(len(f.OwnerIDs)) + ")))"
		for _, o := range f.Owners {
			args = append(args, o)
		}
		for _, id := range f.OwnerIDs {
			args = append(args, id)
		}
	}
	tasks, err := s.queryTasks(ctx, scanListed, q+" ORDER BY registered_time", args...)
	for _, t := range tasks {
		t.Type = f.Type
	}
	return tasks, err
}

// placeholders is n comma-separated "?"; SQLite takes an empty IN list.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// LiveTasks returns every task that is not TERMINATED.
func (s *Store) LiveTasks(ctx context.Context) ([]*Task, error) {
	return s.queryTasks(ctx, scanTask, "SELECT "+taskSelect+" FROM tasks WHERE state != ? ORDER BY registered_time", terminated)
}

// queryTasks runs q and reads each row with scan.
func (s *Store) queryTasks(ctx context.Context, scan func(rowScanner) (*Task, error), q string, args ...any) ([]*Task, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query tasks: %w", err)
	}
	defer rows.Close()
	var out []*Task
	for rows.Next() {
		t, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("read task: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetJobID records the Slurm job id of a submitted task.
func (s *Store) SetJobID(ctx context.Context, id, jobID string) error {
	_, err := s.db.ExecContext(ctx, "UPDATE tasks SET job_id=? WHERE id=?", jobID, id)
	if err != nil {
		return fmt.Errorf("set job id of %s: %w", id, err)
	}
	return nil
}

// Update is a change of a task's state. Empty fields are left as they are,
// except Reason, which is always written.
type Update struct {
	State    string
	Reason   string
	Node     string
	Host     string
	Port     int
	ExitCode *int
	// From, when set, names the states the task may be in for the update
	// to apply: a caller that decided from an earlier read of the task
	// passes that read's state, so a change made meanwhile (a ready
	// callback, a kill) is not overwritten. The update then answers
	// ErrNotFound.
	From []string
}

// UpdateTask applies u to task id and records an event when msg is not
// empty, in one transaction. A TERMINATED task is never changed again.
func (s *Store) UpdateTask(ctx context.Context, id string, u Update, msg string) error {
	sets := []string{"reason=?"}
	args := []any{u.Reason}
	if u.State != "" {
		sets = append(sets, "state=?")
		args = append(args, u.State)
		if u.State == terminated {
			sets = append(sets, "end_time=?")
			args = append(args, time.Now().UnixNano())
		}
	}
	if u.Node != "" {
		sets = append(sets, "node=?")
		args = append(args, u.Node)
	}
	if u.Host != "" {
		sets = append(sets, "host=?", "port=?")
		args = append(args, u.Host, u.Port)
	}
	if u.ExitCode != nil {
		sets = append(sets, "exit_code=?")
		args = append(args, *u.ExitCode)
	}
	where := " WHERE id=? AND state != ?"
	args = append(args, id, terminated)
	if len(u.From) > 0 {
		where += " AND state IN (?" + strings.Repeat(",?", len(u.From)-1) + ")"
		for _, st := range u.From {
			args = append(args, st)
		}
	}
	return s.inTx(ctx, id, msg, "UPDATE tasks SET "+strings.Join(sets, ", ")+where, args...)
}

// Event is one bridge-side log line of a task.
type Event struct {
	ID      int64
	Time    time.Time
	Message string
}

// AddEvent records a bridge-side log line for a task.
func (s *Store) AddEvent(ctx context.Context, taskID, msg string) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO events(task_id, time, message) VALUES(?,?,?)", taskID, time.Now().UnixNano(), msg)
	if err != nil {
		return fmt.Errorf("record event of %s: %w", taskID, err)
	}
	return nil
}

// Events returns a task's events with an id above after, oldest first.
func (s *Store) Events(ctx context.Context, taskID string, after int64) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, time, message FROM events WHERE task_id=? AND id>? ORDER BY id", taskID, after)
	if err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var ts int64
		if err := rows.Scan(&e.ID, &ts, &e.Message); err != nil {
			return nil, err
		}
		e.Time = time.Unix(0, ts)
		out = append(out, e)
	}
	return out, rows.Err()
}

// TaskCount is how many tasks of one type are in one state in one pool.
type TaskCount struct {
	Type, Pool, State string
	N                 int
}

// CountTasks counts the tasks by type, pool and state.
func (s *Store) CountTasks(ctx context.Context) ([]TaskCount, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT type, pool, state, COUNT(*) FROM tasks GROUP BY type, pool, state ORDER BY type, pool, state")
	if err != nil {
		return nil, fmt.Errorf("count tasks: %w", err)
	}
	defer rows.Close()
	var out []TaskCount
	for rows.Next() {
		var c TaskCount
		if err := rows.Scan(&c.Type, &c.Pool, &c.State, &c.N); err != nil {
			return nil, fmt.Errorf("read task count: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
