package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// User is a bridge account.
type User struct {
	ID        int64
	Username  string
	Admin     bool
	Active    bool
	PosixUser string // the agent user its jobs run as; "" when not linked
	AgentUID  int    // -1 when not given
	AgentGID  int    // -1 when not given
	AgentGrp  string
}

// ErrBadCredentials is returned for a wrong user name or password.
var ErrBadCredentials = errors.New("invalid username or password")

// EnsureDefaultUsers creates admin and determined with empty passwords
// when the user table is empty, as Determined does.
func (s *Store) EnsureDefaultUsers(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		return fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil
	}
	for _, u := range []struct {
		name  string
		admin bool
	}{{"admin", true}, {"determined", false}} {
		if _, err := s.CreateUser(ctx, u.name, "", u.admin); err != nil {
			return err
		}
	}
	return nil
}

// CreateUser adds a user with a bcrypt hash of password.
func (s *Store) CreateUser(ctx context.Context, name, password string, admin bool) (*User, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	res, err := s.db.ExecContext(ctx, "INSERT INTO users(username, password_hash, admin) VALUES(?,?,?)", name, string(hash), admin)
	if err != nil {
		return nil, fmt.Errorf("create user %s: %w", name, err)
	}
	id, _ := res.LastInsertId()
	return &User{ID: id, Username: name, Admin: admin, Active: true}, nil
}

// SetPosixUser links a bridge user to the POSIX account its jobs run as.
func (s *Store) SetPosixUser(ctx context.Context, name, posix string) error {
	return s.LinkAgent(ctx, name, posix, -1, "", -1)
}

// LinkAgent links a bridge user to a POSIX identity (uid, group and gid
// -1/"" when not given).
func (s *Store) LinkAgent(ctx context.Context, name, posix string, uid int, group string, gid int) error {
	res, err := s.db.ExecContext(ctx, "UPDATE users SET posix_user=?, agent_uid=?, agent_group=?, agent_gid=? WHERE username=?", posix, uid, group, gid, name)
	if err != nil {
		return fmt.Errorf("link user %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

func scanUser(row rowScanner) (*User, string, error) {
	var u User
	var hash string
	if err := row.Scan(&u.ID, &u.Username, &hash, &u.Admin, &u.Active, &u.PosixUser, &u.AgentUID, &u.AgentGrp, &u.AgentGID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, "", ErrNotFound
		}
		return nil, "", err
	}
	return &u, hash, nil
}

const userCols = "id, username, password_hash, admin, active, posix_user, agent_uid, agent_group, agent_gid"

// Login checks a password and returns a new token valid for ttl.
func (s *Store) Login(ctx context.Context, name, password string, ttl time.Duration) (string, *User, error) {
	u, hash, err := scanUser(s.db.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE username=?", name))
	if errors.Is(err, ErrNotFound) {
		return "", nil, ErrBadCredentials
	}
	if err != nil {
		return "", nil, fmt.Errorf("look up user: %w", err)
	}
	if !u.Active || bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", nil, ErrBadCredentials
	}
	tok, err := s.NewToken(ctx, u.ID, "", ttl)
	if err != nil {
		return "", nil, err
	}
	return tok, u, nil
}

// NewToken creates a token for a user valid for ttl; with a taskID it is
// revoked by RevokeTaskTokens when that task ends.
func (s *Store) NewToken(ctx context.Context, userID int64, taskID string, ttl time.Duration) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(b)
	if _, err := s.db.ExecContext(ctx, "INSERT INTO tokens(token, user_id, expires, task_id) VALUES(?,?,?,?)", tok, userID, time.Now().Add(ttl).Unix(), taskID); err != nil {
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

// UserByToken returns the active user a valid token belongs to.
func (s *Store) UserByToken(ctx context.Context, token string) (*User, error) {
	u, _, err := scanUser(s.db.QueryRowContext(ctx,
		"SELECT u.id, u.username, u.password_hash, u.admin, u.active, u.posix_user, u.agent_uid, u.agent_group, u.agent_gid FROM tokens t JOIN users u ON u.id=t.user_id WHERE t.token=? AND t.expires>? AND u.active=1",
		token, time.Now().Unix()))
	return u, err
}

// UserByName returns a user.
func (s *Store) UserByName(ctx context.Context, name string) (*User, error) {
	u, _, err := scanUser(s.db.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE username=?", name))
	return u, err
}

// ListUsers returns every user, by name.
func (s *Store) ListUsers(ctx context.Context) ([]*User, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+userCols+" FROM users ORDER BY username")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []*User
	for rows.Next() {
		u, _, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UserByAgent returns the user linked to a POSIX account, by uid or name.
// When several are, the one named like the POSIX account wins.
func (s *Store) UserByAgent(ctx context.Context, uid int, name string) (*User, error) {
	u, _, err := scanUser(s.db.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE (agent_uid=? AND agent_uid>=0) OR (posix_user=? AND posix_user!='') ORDER BY username=? DESC, agent_uid=? DESC, id LIMIT 1", uid, name, name, uid))
	return u, err
}

// SetPassword replaces a user's password.
func (s *Store) SetPassword(ctx context.Context, name, password string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	res, err := s.db.ExecContext(ctx, "UPDATE users SET password_hash=? WHERE username=?", string(hash), name)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetActive activates or deactivates a user; deactivating revokes its
// tokens.
func (s *Store) SetActive(ctx context.Context, name string, active bool) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "UPDATE users SET active=? WHERE username=?", active, name)
	if err != nil {
		return fmt.Errorf("deactivate %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if !active {
		if _, err := tx.ExecContext(ctx, "DELETE FROM tokens WHERE user_id=(SELECT id FROM users WHERE username=?)", name); err != nil {
			return fmt.Errorf("revoke tokens of %s: %w", name, err)
		}
	}
	return tx.Commit()
}

// RevokeToken deletes one token (logout).
func (s *Store) RevokeToken(ctx context.Context, token string) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM tokens WHERE token=?", token); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// HasEmptyPassword reports whether a user's password is empty.
func (s *Store) HasEmptyPassword(ctx context.Context, name string) (bool, error) {
	_, hash, err := scanUser(s.db.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE username=?", name))
	if err != nil {
		return false, err
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte("")) == nil, nil
}
