package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Tokens are kept as the SHA-256 of the bearer string: whoever reads the
// database (a backup, a copied file) gets nothing to log in with. A token
// is 32 random bytes, so a plain hash cannot be reversed.

// Session is what a bearer token stands for: its user and, for a token
// made for a task (DET_USER_TOKEN in a notebook), that task.
type Session struct {
	User *User
	// TaskID is the task the token was made for; "" for a login.
	TaskID string
	// Issued is when the token was made (the zero time for tokens made
	// before the store recorded it).
	Issued time.Time
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// NewToken creates a token for a user valid for ttl; with a taskID it is
// valid only while that task has not ended, and RevokeTaskTokens deletes
// it when the task ends.
func (s *Store) NewToken(ctx context.Context, userID int64, taskID string, ttl time.Duration) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(b)
	now := time.Now()
	if _, err := s.db.ExecContext(ctx, "INSERT INTO tokens(hash, user_id, expires, task_id, issued) VALUES(?,?,?,?,?)",
		hashToken(tok), userID, now.Add(ttl).Unix(), taskID, now.Unix()); err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	return tok, nil
}

// RevokeTaskTokens deletes the tokens made for a task.
func (s *Store) RevokeTaskTokens(ctx context.Context, taskID string) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM tokens WHERE task_id=?", taskID); err != nil {
		return fmt.Errorf("revoke tokens of %s: %w", taskID, err)
	}
	return nil
}

// SessionByToken returns the session of a valid token of an active user
// (ErrNotFound for an unknown, expired or revoked token, or one whose task
// has ended).
func (s *Store) SessionByToken(ctx context.Context, token string) (*Session, error) {
	var taskID string
	var issued int64
	u, _, err := scanUser(s.db.QueryRowContext(ctx,
		`SELECT `+userColsOf("u")+`, t.task_id, t.issued
		FROM tokens t JOIN users u ON u.id=t.user_id
		WHERE t.hash=? AND t.expires>? AND u.active=1
		AND (t.task_id='' OR EXISTS (SELECT 1 FROM tasks k WHERE k.id=t.task_id AND k.state!='`+terminated+`'))`,
		hashToken(token), time.Now().Unix()), &taskID, &issued)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	ses := &Session{User: u, TaskID: taskID}
	if issued > 0 {
		ses.Issued = time.Unix(issued, 0)
	}
	return ses, nil
}

// UserByToken returns the active user a valid token belongs to.
func (s *Store) UserByToken(ctx context.Context, token string) (*User, error) {
	ses, err := s.SessionByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	return ses.User, nil
}

// RevokeToken deletes one token (logout).
func (s *Store) RevokeToken(ctx context.Context, token string) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM tokens WHERE hash=?", hashToken(token)); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// PruneTokens deletes the tokens that can no longer be used: expired at
// now, or made for a task that has ended or is gone. It returns how many
// it deleted.
func (s *Store) PruneTokens(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx,
		`DELETE FROM tokens WHERE expires<=?
		OR (task_id!='' AND NOT EXISTS (SELECT 1 FROM tasks k WHERE k.id=tokens.task_id AND k.state!='`+terminated+`'))`,
		now.Unix())
	if err != nil {
		return 0, fmt.Errorf("prune tokens: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// hashTokens is migration 6: tokens were kept in plain text in the column
// token; they are kept hashed in the column hash from now on. Expired
// tokens go.
func hashTokens(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM tokens WHERE expires<=?", time.Now().Unix()); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "ALTER TABLE tokens RENAME COLUMN token TO hash"); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, "SELECT hash FROM tokens")
	if err != nil {
		return err
	}
	var plain []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		plain = append(plain, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range plain {
		if _, err := tx.ExecContext(ctx, "UPDATE tokens SET hash=? WHERE hash=?", hashToken(t), t); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `CREATE INDEX tokens_user ON tokens(user_id);
	CREATE INDEX tokens_expires ON tokens(expires);`)
	return err
}
