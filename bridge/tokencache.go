package bridge

import (
	"context"
	"sync"
	"time"

	"github.com/det-slurm/bridge/bridge/store"
)

// tokenTTLInCache is how long a token's user is remembered without asking
// the database; every change to users or tokens made through this bridge
// empties the cache at once.
const tokenTTLInCache = 2 * time.Second

// tokenCache keeps the user of recently seen bearer tokens, so the proxy
// does not query SQLite on every request.
type tokenCache struct {
	mu sync.RWMutex
	m  map[string]cachedUser
}

type cachedUser struct {
	user    *store.User
	expires time.Time
}

func (c *tokenCache) get(tok string, now time.Time) (*store.User, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[tok]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	return e.user, true
}

func (c *tokenCache) put(tok string, u *store.User, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]cachedUser{}
	}
	c.m[tok] = cachedUser{user: u, expires: now.Add(tokenTTLInCache)}
}

// clear forgets every token.
func (c *tokenCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

// userByToken returns the active user of a token, from the cache when it
// is fresh.
func (s *Server) userByToken(ctx context.Context, tok string) (*store.User, error) {
	now := time.Now()
	if u, ok := s.tokens.get(tok, now); ok {
		return u, nil
	}
	u, err := s.store.UserByToken(ctx, tok)
	if err != nil {
		return nil, err
	}
	s.tokens.put(tok, u, now)
	return u, nil
}
