package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
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

var (
	// ErrBadCredentials is returned for a wrong user name or password.
	ErrBadCredentials = errors.New("invalid username or password")
	// ErrPasswordTooLong is returned for a password bcrypt cannot hash
	// whole (more than MaxPasswordBytes).
	ErrPasswordTooLong = fmt.Errorf("a password may be at most %d bytes long (the limit of bcrypt, which stores it)", MaxPasswordBytes)
	// ErrAmbiguousAgent is wrapped by the error of UserByAgent when several
	// active bridge users are linked to the POSIX account.
	ErrAmbiguousAgent = errors.New("POSIX user linked to several bridge users")
)

// MaxPasswordBytes is the longest password bcrypt hashes whole.
const MaxPasswordBytes = 72

// dummyHash is compared against when a login names no user, so that such
// a login takes as long as a wrong password and does not tell which user
// names exist. It has the store's bcrypt cost and a password nobody knows.
func (s *Store) dummyHash() []byte {
	s.dummyOnce.Do(func() {
		pw := make([]byte, 32)
		_, _ = rand.Read(pw)
		s.dummy, _ = bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(pw)[:MaxPasswordBytes/2]), s.cost)
	})
	return s.dummy
}

// AmbiguousAgentError lists the bridge users linked to one POSIX account.
type AmbiguousAgentError struct {
	Posix string
	UID   int
	Users []string
}

func (e *AmbiguousAgentError) Error() string {
	return fmt.Sprintf("POSIX user %s (uid %d) is linked to several bridge users (%s)", e.Posix, e.UID, strings.Join(e.Users, ", "))
}

func (e *AmbiguousAgentError) Unwrap() error { return ErrAmbiguousAgent }

func (s *Store) hashPassword(password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(hash), nil
}

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

// CreateUser adds a user with a bcrypt hash of password
// (ErrPasswordTooLong beyond MaxPasswordBytes).
func (s *Store) CreateUser(ctx context.Context, name, password string, admin bool) (*User, error) {
	hash, err := s.hashPassword(password)
	if err != nil {
		return nil, err
	}
	res, err := s.db.ExecContext(ctx, "INSERT INTO users(username, password_hash, admin) VALUES(?,?,?)", name, hash, admin)
	if err != nil {
		return nil, fmt.Errorf("create user %s: %w", name, err)
	}
	id, _ := res.LastInsertId()
	return &User{ID: id, Username: name, Admin: admin, Active: true}, nil
}

// noPassword is the password hash of a user who has none yet (created on
// a munge login): no password logs in, and the user may set one without
// giving the current one.
const noPassword = "!"

// CreateUserWithoutPassword adds a user who can log in only another way
// (munge) until they set a password.
func (s *Store) CreateUserWithoutPassword(ctx context.Context, name string) (*User, error) {
	res, err := s.db.ExecContext(ctx, "INSERT INTO users(username, password_hash, admin) VALUES(?,?,0)", name, noPassword)
	if err != nil {
		return nil, fmt.Errorf("create user %s: %w", name, err)
	}
	id, _ := res.LastInsertId()
	return &User{ID: id, Username: name, Active: true}, nil
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

// Login checks a password and returns a new token valid for ttl. A
// missing or inactive user costs the same bcrypt comparison as a wrong
// password.
func (s *Store) Login(ctx context.Context, name, password string, ttl time.Duration) (string, *User, error) {
	u, hash, err := scanUser(s.db.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE username=?", name))
	if errors.Is(err, ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
		return "", nil, ErrBadCredentials
	}
	if err != nil {
		return "", nil, fmt.Errorf("look up user: %w", err)
	}
	if hash == noPassword {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password)) // the same time as a wrong password
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || !u.Active {
		return "", nil, ErrBadCredentials
	}
	tok, err := s.NewToken(ctx, u.ID, "", ttl)
	if err != nil {
		return "", nil, err
	}
	return tok, u, nil
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

// UserByAgent returns the active user linked to a POSIX account, by uid
// or name. It never picks among several: when more than one active user
// is linked, the error is an *AmbiguousAgentError (ErrAmbiguousAgent).
// When only inactive users are linked, one of them is returned (the
// caller refuses it as deactivated); ErrNotFound when none is.
func (s *Store) UserByAgent(ctx context.Context, uid int, name string) (*User, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+userCols+" FROM users WHERE (agent_uid=? AND agent_uid>=0) OR (posix_user=? AND posix_user!='') ORDER BY username", uid, name)
	if err != nil {
		return nil, fmt.Errorf("look up the users of POSIX user %s: %w", name, err)
	}
	defer rows.Close()
	var active, inactive []*User
	for rows.Next() {
		u, _, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		if u.Active {
			active = append(active, u)
		} else {
			inactive = append(inactive, u)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	switch {
	case len(active) == 1:
		return active[0], nil
	case len(active) > 1:
		e := &AmbiguousAgentError{Posix: name, UID: uid}
		for _, u := range active {
			e.Users = append(e.Users, u.Username)
		}
		return nil, e
	case len(inactive) > 0:
		return inactive[0], nil
	}
	return nil, ErrNotFound
}

// SetPassword replaces a user's password (an admin's reset) and revokes
// every token of the user, its tasks' included.
func (s *Store) SetPassword(ctx context.Context, name, password string) error {
	hash, err := s.hashPassword(password)
	if err != nil {
		return err
	}
	return s.replacePassword(ctx, name, "", hash, "")
}

// ChangePassword replaces a user's password when old is the current one
// (ErrBadCredentials when not), and revokes every token of the user but
// keep (the session the change was made from; "" for none).
func (s *Store) ChangePassword(ctx context.Context, name, old, password, keep string) error {
	_, cur, err := scanUser(s.db.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE username=?", name))
	if errors.Is(err, ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(old))
		return ErrBadCredentials
	}
	if err != nil {
		return fmt.Errorf("look up user: %w", err)
	}
	if cur != noPassword && bcrypt.CompareHashAndPassword([]byte(cur), []byte(old)) != nil {
		return ErrBadCredentials
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return err
	}
	return s.replacePassword(ctx, name, cur, hash, keep)
}

// replacePassword sets a user's password hash (only while it is still
// cur, unless cur is "") and deletes its tokens but keep, in one
// transaction.
func (s *Store) replacePassword(ctx context.Context, name, cur, hash, keep string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q, args := "UPDATE users SET password_hash=? WHERE username=?", []any{hash, name}
	if cur != "" {
		q, args = q+" AND password_hash=?", append(args, cur)
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if cur != "" {
			return ErrBadCredentials // changed meanwhile
		}
		return ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM tokens WHERE user_id=(SELECT id FROM users WHERE username=?) AND hash!=?", name, hashToken(keep)); err != nil {
		return fmt.Errorf("revoke tokens of %s: %w", name, err)
	}
	return tx.Commit()
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

// HasEmptyPassword reports whether a user's password is empty.
func (s *Store) HasEmptyPassword(ctx context.Context, name string) (bool, error) {
	_, hash, err := scanUser(s.db.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE username=?", name))
	if err != nil {
		return false, err
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte("")) == nil, nil
}
