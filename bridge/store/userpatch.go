package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrLiveTasks is returned for renaming a user whose tasks still run:
	// their routes and jobs know the user by name.
	ErrLiveTasks = errors.New("the user has tasks that have not ended; rename the user once they have")
	// ErrNeedsPassword is returned for making a remote user local without
	// giving a password.
	ErrNeedsPassword = errors.New("a remote user has no password: give one to make the user local")
	// ErrRemoteWithPassword is returned for a change that both gives a
	// password and makes the user remote.
	ErrRemoteWithPassword = errors.New("a remote user has no password: give a password or remote: true, not both")
)

// Agent is a POSIX identity a user's jobs run as (UID and GID -1, Group ""
// when not given).
type Agent struct {
	User  string
	UID   int
	Group string
	GID   int
}

// UserPatch is a change to a user; nil fields stay as they are.
type UserPatch struct {
	Username    *string
	DisplayName *string
	Admin       *bool
	Active      *bool
	// Password sets the password, which makes a remote user local.
	Password *Password
	// Remote true removes the password; false needs Password for a
	// remote user and changes nothing for a local one.
	Remote *bool
	Agent  *Agent
	// KeepToken is the token of the session that makes a password
	// change: it stays valid, while every other token of the user is
	// revoked.
	KeepToken string
}

// PatchUser applies p to user id in one transaction and returns the user
// after it. Deactivating revokes every token of the user; setting or
// removing the password every one but p.KeepToken. Renaming renames the
// owner of the user's (ended) tasks too.
func (s *Store) PatchUser(ctx context.Context, id int64, p UserPatch) (*User, error) {
	if p.Password != nil && p.Remote != nil && *p.Remote {
		return nil, ErrRemoteWithPassword
	}
	var hash string
	if p.Password != nil {
		var err error
		if hash, err = s.hashPassword(*p.Password); err != nil {
			return nil, err
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	cur, c, err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE id=?", id))
	if err != nil {
		return nil, err
	}
	var sets []string
	var args []any
	set := func(col string, v any) {
		sets = append(sets, col+"=?")
		args = append(args, v)
	}
	rename := p.Username != nil && *p.Username != cur.Username
	if rename {
		var live int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM tasks WHERE owner=? AND state!=?", cur.Username, terminated).Scan(&live); err != nil {
			return nil, fmt.Errorf("count the tasks of %s: %w", cur.Username, err)
		}
		if live > 0 {
			return nil, ErrLiveTasks
		}
		set("username", *p.Username)
	}
	if p.DisplayName != nil {
		set("display_name", *p.DisplayName)
	}
	if p.Admin != nil {
		set("admin", *p.Admin)
	}
	if p.Active != nil {
		set("active", *p.Active)
	}
	revoke := false
	switch {
	case p.Password != nil:
		set("password_hash", hash)
		set("password_scheme", schemeSalted)
		revoke = true
	case p.Remote != nil && *p.Remote:
		set("password_hash", noPassword)
		revoke = c.hash != noPassword
	case p.Remote != nil && c.hash == noPassword:
		return nil, ErrNeedsPassword
	}
	if a := p.Agent; a != nil {
		set("posix_user", a.User)
		set("agent_uid", a.UID)
		set("agent_group", a.Group)
		set("agent_gid", a.GID)
	}
	if len(sets) > 0 {
		_, err := tx.ExecContext(ctx, "UPDATE users SET "+strings.Join(sets, ", ")+" WHERE id=?", append(args, id)...)
		if isUnique(err) {
			return nil, ErrUserExists
		}
		if err != nil {
			return nil, fmt.Errorf("change user %s: %w", cur.Username, err)
		}
	}
	if rename {
		if _, err := tx.ExecContext(ctx, "UPDATE tasks SET owner=? WHERE owner=?", *p.Username, cur.Username); err != nil {
			return nil, fmt.Errorf("rename the owner of %s's tasks: %w", cur.Username, err)
		}
	}
	switch {
	case p.Active != nil && !*p.Active:
		_, err = tx.ExecContext(ctx, "DELETE FROM tokens WHERE user_id=?", id)
	case revoke:
		_, err = tx.ExecContext(ctx, "DELETE FROM tokens WHERE user_id=? AND hash!=?", id, hashToken(p.KeepToken))
	}
	if err != nil {
		return nil, fmt.Errorf("revoke the tokens of %s: %w", cur.Username, err)
	}
	u, _, err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE id=?", id))
	if err != nil {
		return nil, err
	}
	return u, tx.Commit()
}
