package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mattn/go-sqlite3"
)

// User is a bridge account.
type User struct {
	ID          int64
	Username    string
	DisplayName string
	Admin       bool
	Active      bool
	// Remote users have no password: they log in with munge only.
	Remote    bool
	PosixUser string // the agent user its jobs run as; "" when not linked
	AgentUID  int    // -1 when not given
	AgentGID  int    // -1 when not given
	AgentGrp  string
}

var (
	// ErrAmbiguousAgent is wrapped by the error of UserByAgent when several
	// active bridge users are linked to the POSIX account.
	ErrAmbiguousAgent = errors.New("POSIX user linked to several bridge users")
	// ErrUserExists is returned for a user name another user has.
	ErrUserExists = errors.New("a user of that name exists already")
)

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
		if _, err := s.CreateUser(ctx, u.name, Plain(""), u.admin); err != nil {
			return err
		}
	}
	return nil
}

// CreateUser adds a user with password p (ErrUserExists when the name is
// taken, ErrPasswordTooLong or ErrBadPasswordHash for a password it cannot
// take).
func (s *Store) CreateUser(ctx context.Context, name string, p Password, admin bool) (*User, error) {
	hash, err := s.hashPassword(p)
	if err != nil {
		return nil, err
	}
	return s.insertUser(ctx, name, hash, admin)
}

// noPassword is the password hash of a remote user: no password logs in
// (munge does), until one is set.
const noPassword = "!"

// CreateUserWithoutPassword adds a remote user: one who logs in only
// another way (munge) until they set a password.
func (s *Store) CreateUserWithoutPassword(ctx context.Context, name string, admin bool) (*User, error) {
	return s.insertUser(ctx, name, noPassword, admin)
}

func (s *Store) insertUser(ctx context.Context, name, hash string, admin bool) (*User, error) {
	res, err := s.db.ExecContext(ctx, "INSERT INTO users(username, password_hash, password_scheme, admin) VALUES(?,?,?,?)", name, hash, schemeSalted, admin)
	if isUnique(err) {
		return nil, ErrUserExists
	}
	if err != nil {
		return nil, fmt.Errorf("create user %s: %w", name, err)
	}
	id, _ := res.LastInsertId()
	return &User{ID: id, Username: name, Admin: admin, Active: true, Remote: hash == noPassword, AgentUID: -1, AgentGID: -1}, nil
}

// isUnique reports whether err is SQLite refusing a row for a UNIQUE
// column.
func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
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

const userCols = "id, username, display_name, password_hash, password_scheme, admin, active, posix_user, agent_uid, agent_group, agent_gid"

// userColsOf is userCols of the table named t in a query.
func userColsOf(t string) string {
	return t + "." + strings.ReplaceAll(userCols, ", ", ", "+t+".")
}

// scanUser reads a row of userCols, and then extra.
func scanUser(row rowScanner, extra ...any) (*User, credential, error) {
	var u User
	var c credential
	dest := append([]any{&u.ID, &u.Username, &u.DisplayName, &c.hash, &c.scheme, &u.Admin, &u.Active, &u.PosixUser, &u.AgentUID, &u.AgentGrp, &u.AgentGID}, extra...)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, c, ErrNotFound
		}
		return nil, c, err
	}
	u.Remote = c.hash == noPassword
	return &u, c, nil
}

// UserByName returns a user.
func (s *Store) UserByName(ctx context.Context, name string) (*User, error) {
	u, _, err := scanUser(s.db.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE username=?", name))
	return u, err
}

// UserByID returns a user.
func (s *Store) UserByID(ctx context.Context, id int64) (*User, error) {
	u, _, err := scanUser(s.db.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE id=?", id))
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
