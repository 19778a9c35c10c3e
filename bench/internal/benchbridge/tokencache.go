package benchbridge

import (
	"context"
	"sync"
	"time"

	"github.com/det-slurm/bridge/bridge"
	"github.com/det-slurm/bridge/bridge/store"
)

// tokenCache is the change the benchmarks propose for the bridge, tried
// here from outside: UserByToken answers from memory for ttl instead of
// asking SQLite (one connection, shared by every request) each time.
// Revoking or deactivating drops the whole cache.
type tokenCache struct {
	bridge.Store
	ttl time.Duration
	mu  sync.RWMutex
	m   map[string]cachedUser
}

type cachedUser struct {
	u   *store.User
	exp time.Time
}

func newTokenCache(st bridge.Store, ttl time.Duration) *tokenCache {
	return &tokenCache{Store: st, ttl: ttl, m: map[string]cachedUser{}}
}

func (c *tokenCache) UserByToken(ctx context.Context, token string) (*store.User, error) {
	now := time.Now()
	c.mu.RLock()
	e, ok := c.m[token]
	c.mu.RUnlock()
	if ok && now.Before(e.exp) {
		return e.u, nil
	}
	u, err := c.Store.UserByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.m[token] = cachedUser{u: u, exp: now.Add(c.ttl)}
	c.mu.Unlock()
	return u, nil
}

func (c *tokenCache) drop() {
	c.mu.Lock()
	c.m = map[string]cachedUser{}
	c.mu.Unlock()
}

func (c *tokenCache) RevokeToken(ctx context.Context, token string) error {
	defer c.drop()
	return c.Store.RevokeToken(ctx, token)
}

func (c *tokenCache) RevokeTaskTokens(ctx context.Context, taskID string) error {
	defer c.drop()
	return c.Store.RevokeTaskTokens(ctx, taskID)
}

func (c *tokenCache) SetActive(ctx context.Context, name string, active bool) error {
	defer c.drop()
	return c.Store.SetActive(ctx, name, active)
}
