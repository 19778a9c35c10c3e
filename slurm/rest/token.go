package rest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenLife is how long a minted token is valid; tokenSlack is how long
// before its expiry a cached one is replaced.
const (
	tokenLife  = 5 * time.Minute
	tokenSlack = time.Minute
)

// ReadKey reads the JWT HS256 key at path once, without following a
// link. The file must be regular, not open to group or other, and owned
// by root (by the process's own user when it is not root): anyone who
// can read it can act as any Slurm user.
func ReadKey(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("slurmrestd jwt key: no key file given (jwt_key:)")
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("slurmrestd jwt key %s: is a symbolic link; name the key file itself", path)
		}
		return nil, fmt.Errorf("slurmrestd jwt key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("slurmrestd jwt key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("slurmrestd jwt key %s: is not a regular file (%s)", path, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("slurmrestd jwt key %s: group or other may access it (mode %#o); chmod 0600 it", path, perm)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fmt.Errorf("slurmrestd jwt key %s: cannot read its owner", path)
	}
	if want := uint32(os.Geteuid()); st.Uid != want {
		return nil, fmt.Errorf("slurmrestd jwt key %s: owned by uid %d, not %d (root, or the bridge's own user when it is not root)", path, st.Uid, want)
	}
	key, err := io.ReadAll(io.LimitReader(f, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("slurmrestd jwt key: %w", err)
	}
	if len(key) < 16 {
		return nil, fmt.Errorf("slurmrestd jwt key %s: %d bytes is too short for a key", path, len(key))
	}
	return key, nil
}

// tokens mints and caches one token per Slurm user.
type tokens struct {
	key   []byte
	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	token string
	exp   time.Time
}

func newTokens(key []byte) *tokens {
	return &tokens{key: key, cache: map[string]cached{}}
}

// token returns a token for user valid at least tokenSlack after now:
// HS256 over the key, claims sun (the user), iat and exp, as Slurm's
// auth/jwt reads them.
func (t *tokens) token(user string, now time.Time) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.cache[user]; ok && now.Add(tokenSlack).Before(c.exp) {
		return c.token, nil
	}
	exp := now.Add(tokenLife)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sun": user, "iat": now.Unix(), "exp": exp.Unix(),
	}).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("sign a slurmrestd token for %s: %w", user, err)
	}
	t.cache[user] = cached{token: tok, exp: exp}
	return tok, nil
}
