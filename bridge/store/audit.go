package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Audit is one entry of the audit trail: who (Actor, "" when unknown) did
// what (Action) to what (Target), from where (Source, a client address)
// and when, with a short Detail. It never holds a secret.
type Audit struct {
	Time   time.Time
	Actor  string
	Action string
	Target string
	Source string
	Detail string
}

// AuditQuery selects entries of the audit trail: those at or after Since
// and before Until (each unset: no bound), of Actor and of Action (each
// "": any; an Action ending in "*" is a prefix, so "login*" is every kind
// of login). Offset skips the first entries, and Limit (0: no limit)
// bounds how many are returned.
type AuditQuery struct {
	Since, Until  time.Time
	Actor, Action string
	Offset, Limit int
}

// AddAudit records an entry; a zero Time is now.
func (s *Store) AddAudit(ctx context.Context, a Audit) error {
	if a.Time.IsZero() {
		a.Time = time.Now()
	}
	_, err := s.db.ExecContext(ctx, "INSERT INTO audit(time, actor, action, target, source, detail) VALUES(?,?,?,?,?,?)",
		a.Time.UnixNano(), a.Actor, a.Action, a.Target, a.Source, a.Detail)
	if err != nil {
		return fmt.Errorf("record audit entry %s: %w", a.Action, err)
	}
	return nil
}

// ListAudit returns the entries q selects, oldest first, with times in
// UTC.
func (s *Store) ListAudit(ctx context.Context, q AuditQuery) ([]Audit, error) {
	where, args := q.where()
	limit := q.Limit
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	args = append(args, limit, max(q.Offset, 0))
	rows, err := s.db.QueryContext(ctx, "SELECT time, actor, action, target, source, detail FROM audit"+where+" ORDER BY time, id LIMIT ? OFFSET ?", args...)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	defer rows.Close()
	out := []Audit{}
	for rows.Next() {
		var a Audit
		var ns int64
		if err := rows.Scan(&ns, &a.Actor, &a.Action, &a.Target, &a.Source, &a.Detail); err != nil {
			return nil, fmt.Errorf("read audit entry: %w", err)
		}
		a.Time = time.Unix(0, ns).UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}

// CountAudit returns how many entries q selects, its Offset and Limit
// aside.
func (s *Store) CountAudit(ctx context.Context, q AuditQuery) (int, error) {
	where, args := q.where()
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit"+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count audit entries: %w", err)
	}
	return n, nil
}

// PruneAudit deletes the entries older than before and returns how many
// it deleted.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM audit WHERE time<?", before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("prune audit entries: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// where is the WHERE clause of q's filters ("" for none) and its
// arguments.
func (q AuditQuery) where() (string, []any) {
	var conds []string
	var args []any
	if !q.Since.IsZero() {
		conds, args = append(conds, "time>=?"), append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		conds, args = append(conds, "time<?"), append(args, q.Until.UnixNano())
	}
	if q.Actor != "" {
		conds, args = append(conds, "actor=?"), append(args, q.Actor)
	}
	if prefix, ok := strings.CutSuffix(q.Action, "*"); ok {
		conds, args = append(conds, `action LIKE ? ESCAPE '\'`), append(args, likeEscaper.Replace(prefix)+"%")
	} else if q.Action != "" {
		conds, args = append(conds, "action=?"), append(args, q.Action)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// likeEscaper escapes LIKE's wildcards (and its escape character) in a
// literal prefix.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
