package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/det-slurm/bridge/api"
)

// Passwords are kept as Determined keeps them: bcrypt of the salted
// SHA-512 its clients send (api.PasswordHash), so a client may send either
// the password (hashed here first) or that hash. bcrypt reads at most 72
// bytes, so it is given the first 72 hex digits (288 bits) of the hash.
// Rows written before migration 8 hold bcrypt of the password itself: the
// first login with the password rewrites them.

// How a row's password hash was made (users.password_scheme).
const (
	// schemePlain is bcrypt of the password itself (rows before migration 8).
	schemePlain = "plain"
	// schemeSalted is bcrypt of api.PasswordHash of the password.
	schemeSalted = "salted-sha512"
)

// MaxPasswordBytes is the longest password taken; its hash is what bcrypt
// stores, so this bounds only the work a login asks for.
const MaxPasswordBytes = 1024

var (
	// ErrBadCredentials is returned for a wrong user name or password.
	ErrBadCredentials = errors.New("invalid credentials")
	// ErrPasswordTooLong is returned for a password over MaxPasswordBytes.
	ErrPasswordTooLong = fmt.Errorf("a password may be at most %d bytes long", MaxPasswordBytes)
	// ErrBadPasswordHash is returned for a hashed password that is not one.
	ErrBadPasswordHash = errors.New("a hashed password (isHashed) is the 128 hex digits of a salted SHA-512")
	// ErrPasswordLoginNeeded is returned for a hashed password of a user
	// whose password was set before the bridge kept them hashed that way:
	// the stored hash cannot be checked against it.
	ErrPasswordLoginNeeded = errors.New("this account's password was set before the bridge took Determined's password hashing, so this client's hashed password cannot be checked; log in once with the password itself, with the bridge's det (`det user login`) or its WebUI, and then this client works")
)

// Password is a password as a client sent it: the password itself or, when
// Hashed, api.PasswordHash of it.
type Password struct {
	Text   string
	Hashed bool
}

// Plain is a password given as itself.
func Plain(pw string) Password { return Password{Text: pw} }

// salted returns api.PasswordHash of the password.
func (p Password) salted() (string, error) {
	if !p.Hashed {
		if len(p.Text) > MaxPasswordBytes {
			return "", ErrPasswordTooLong
		}
		return api.PasswordHash(p.Text), nil
	}
	if p.Text == "" {
		return "", nil // the empty password hashes to itself
	}
	if _, err := hex.DecodeString(p.Text); err != nil || len(p.Text) != 128 {
		return "", ErrBadPasswordHash
	}
	return strings.ToLower(p.Text), nil
}

// bcryptInput is what bcrypt is given for a salted hash.
func bcryptInput(salted string) []byte {
	b := []byte(salted)
	if len(b) > 72 {
		b = b[:72]
	}
	return b
}

// hashPassword returns the hash to store for p (scheme schemeSalted).
func (s *Store) hashPassword(p Password) (string, error) {
	key, err := p.salted()
	if err != nil {
		return "", err
	}
	hash, err := bcrypt.GenerateFromPassword(bcryptInput(key), s.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(hash), nil
}

// dummyHash is compared against when a login names no user, so that such
// a login takes as long as a wrong password and does not tell which user
// names exist. It has the store's bcrypt cost and a password nobody knows.
func (s *Store) dummyHash() []byte {
	s.dummyOnce.Do(func() {
		pw := make([]byte, 32)
		_, _ = rand.Read(pw)
		s.dummy, _ = bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(pw)), s.cost)
	})
	return s.dummy
}

// wasteCompare costs what checking a wrong password costs.
func (s *Store) wasteCompare() {
	_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte("x"))
}

// credential is a row's password hash and how it was made.
type credential struct {
	hash   string
	scheme string
}

// checkPassword reports whether p is u's password (whose row holds c),
// and rewrites a schemePlain hash as a schemeSalted one when it is.
func (s *Store) checkPassword(ctx context.Context, u *User, c credential, p Password) (bool, error) {
	key, err := p.salted()
	if err != nil {
		return false, err
	}
	switch {
	case c.hash == noPassword:
		s.wasteCompare()
		return false, nil
	case c.scheme == schemeSalted:
		return bcrypt.CompareHashAndPassword([]byte(c.hash), bcryptInput(key)) == nil, nil
	case p.Hashed && p.Text != "":
		s.wasteCompare()
		if !u.Active {
			return false, nil
		}
		return false, ErrPasswordLoginNeeded
	}
	if bcrypt.CompareHashAndPassword([]byte(c.hash), []byte(p.Text)) != nil {
		return false, nil
	}
	hash, err := s.hashPassword(p)
	if err != nil {
		return false, err
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE users SET password_hash=?, password_scheme=? WHERE id=? AND password_hash=?",
		hash, schemeSalted, u.ID, c.hash); err != nil {
		return false, fmt.Errorf("rehash the password of %s: %w", u.Username, err)
	}
	return true, nil
}

// Login checks a password and returns a new token valid for ttl. A
// missing or inactive user costs the same bcrypt comparison as a wrong
// password.
func (s *Store) Login(ctx context.Context, name string, p Password, ttl time.Duration) (string, *User, error) {
	if _, err := p.salted(); err != nil {
		return "", nil, err
	}
	u, c, err := scanUser(s.db.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE username=?", name))
	if errors.Is(err, ErrNotFound) {
		s.wasteCompare()
		return "", nil, ErrBadCredentials
	}
	if err != nil {
		return "", nil, fmt.Errorf("look up user: %w", err)
	}
	ok, err := s.checkPassword(ctx, u, c, p)
	if err != nil {
		return "", nil, err
	}
	if !ok || !u.Active {
		return "", nil, ErrBadCredentials
	}
	tok, err := s.NewToken(ctx, u.ID, "", ttl)
	if err != nil {
		return "", nil, err
	}
	return tok, u, nil
}

// SetPassword replaces a user's password (an admin's reset, or
// det-bridge set-password) and revokes every token of the user, its
// tasks' included.
func (s *Store) SetPassword(ctx context.Context, name string, p Password) error {
	hash, err := s.hashPassword(p)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "UPDATE users SET password_hash=?, password_scheme=? WHERE username=?", hash, schemeSalted, name)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM tokens WHERE user_id=(SELECT id FROM users WHERE username=?)", name); err != nil {
		return fmt.Errorf("revoke tokens of %s: %w", name, err)
	}
	return tx.Commit()
}

// HasEmptyPassword reports whether a user's password is empty.
func (s *Store) HasEmptyPassword(ctx context.Context, name string) (bool, error) {
	_, c, err := scanUser(s.db.QueryRowContext(ctx, "SELECT "+userCols+" FROM users WHERE username=?", name))
	if err != nil {
		return false, err
	}
	// The empty password is its own salted hash, so this holds for
	// both schemes.
	return bcrypt.CompareHashAndPassword([]byte(c.hash), []byte("")) == nil, nil
}
