package bridge

import (
	"context"
	"sync"
	"time"

	"github.com/det-slurm/bridge/bridge/store"
)

// tokenTTLInCache is how long a token's session is remembered without
// asking the database; every change to users or tokens made through this
// bridge empties the cache at once (after the change, so that no request
// racing it caches the old answer again for longer than this).
const tokenTTLInCache = 2 * time.Second

// tokenCache keeps the session of recently seen bearer tokens, so the
// proxy does not query SQLite on every request.
type tokenCache struct {
	mu sync.RWMutex
	m  map[string]cachedSession
}

type cachedSession struct {
	ses     *store.Session
	expires time.Time
}

func (c *tokenCache) get(tok string, now time.Time) (*store.Session, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[tok]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	return e.ses, true
}

func (c *tokenCache) put(tok string, ses *store.Session, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]cachedSession{}
	}
	c.m[tok] = cachedSession{ses: ses, expires: now.Add(tokenTTLInCache)}
}

// clear forgets every token.
func (c *tokenCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

// sessionByToken returns the session of a token of an active user, from
// the cache when it is fresh.
func (s *Server) sessionByToken(ctx context.Context, tok string) (*store.Session, error) {
	now := time.Now()
	if ses, ok := s.tokens.get(tok, now); ok {
		return ses, nil
	}
	ses, err := s.store.SessionByToken(ctx, tok)
	if err != nil {
		return nil, err
	}
	s.tokens.put(tok, ses, now)
	return ses, nil
}

// userByToken returns the active user of a token, from the cache when it
// is fresh.
func (s *Server) userByToken(ctx context.Context, tok string) (*store.User, error) {
	ses, err := s.sessionByToken(ctx, tok)
	if err != nil {
		return nil, err
	}
	return ses.User, nil
}
