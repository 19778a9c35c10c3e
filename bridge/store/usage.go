package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// UsageRow is one pool's use in one minute of the usage history.
type UsageRow struct {
	// Time is the minute's start; AddUsage truncates it to the minute.
	Time time.Time
	Pool string
	// GPUsAllocated are the GPUs of the pool's running tasks, and GPUsIdle
	// those of the ones among them that were idle.
	GPUsAllocated, GPUsIdle int
	// QueueWaitP50 and QueueWaitP95 are the median and 95th percentile,
	// in seconds, of the queue waits of the jobs that started in the
	// minute; nil when none did.
	QueueWaitP50, QueueWaitP95 *float64
	// CancelIdle, CancelUser and CancelAdmin count the jobs the bridge
	// cancelled in the minute, by reason.
	CancelIdle, CancelUser, CancelAdmin int
}

// usageCols are the columns of usage_minutes, in UsageRow's order.
const usageCols = "time, pool, gpus_allocated, gpus_idle, queue_wait_p50, queue_wait_p95, cancel_idle, cancel_user, cancel_admin"

// addUsage writes one minute of one pool. A minute and pool already
// there (a second sample in the same minute, as after a restart) is
// updated, never repeated: the GPUs are the later sample's, the
// cancellations add up, and the waits are the later sample's when it
// has any.
const addUsage = `INSERT INTO usage_minutes(` + usageCols + `) VALUES(?,?,?,?,?,?,?,?,?)
	ON CONFLICT(time, pool) DO UPDATE SET
		gpus_allocated=excluded.gpus_allocated,
		gpus_idle=excluded.gpus_idle,
		queue_wait_p50=COALESCE(excluded.queue_wait_p50, queue_wait_p50),
		queue_wait_p95=COALESCE(excluded.queue_wait_p95, queue_wait_p95),
		cancel_idle=cancel_idle+excluded.cancel_idle,
		cancel_user=cancel_user+excluded.cancel_user,
		cancel_admin=cancel_admin+excluded.cancel_admin`

// AddUsage writes a minute's rows in one transaction.
func (s *Store) AddUsage(ctx context.Context, rows []UsageRow) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write usage: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, addUsage)
	if err != nil {
		return fmt.Errorf("write usage: %w", err)
	}
	defer stmt.Close()
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, r.Time.Truncate(time.Minute).Unix(), r.Pool, r.GPUsAllocated, r.GPUsIdle,
			r.QueueWaitP50, r.QueueWaitP95, r.CancelIdle, r.CancelUser, r.CancelAdmin); err != nil {
			return fmt.Errorf("write usage of pool %s at %s: %w", r.Pool, r.Time.UTC().Format(time.RFC3339), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write usage: %w", err)
	}
	return nil
}

// Usage reads the rows of the minutes from from to to (both included),
// by pool and then by time.
func (s *Store) Usage(ctx context.Context, from, to time.Time) ([]UsageRow, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+usageCols+" FROM usage_minutes WHERE time >= ? AND time <= ? ORDER BY pool, time",
		from.Unix(), to.Unix())
	if err != nil {
		return nil, fmt.Errorf("read usage: %w", err)
	}
	defer rows.Close()
	var out []UsageRow
	for rows.Next() {
		var r UsageRow
		var at int64
		var p50, p95 sql.NullFloat64
		if err := rows.Scan(&at, &r.Pool, &r.GPUsAllocated, &r.GPUsIdle, &p50, &p95, &r.CancelIdle, &r.CancelUser, &r.CancelAdmin); err != nil {
			return nil, fmt.Errorf("read usage: %w", err)
		}
		r.Time = time.Unix(at, 0).UTC()
		if p50.Valid {
			r.QueueWaitP50 = &p50.Float64
		}
		if p95.Valid {
			r.QueueWaitP95 = &p95.Float64
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read usage: %w", err)
	}
	return out, nil
}

// PruneUsage deletes the rows of the minutes before cutoff and returns how
// many it deleted.
func (s *Store) PruneUsage(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM usage_minutes WHERE time < ?", cutoff.Unix())
	if err != nil {
		return 0, fmt.Errorf("prune usage: %w", err)
	}
	return res.RowsAffected()
}
