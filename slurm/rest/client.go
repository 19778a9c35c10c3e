// Package rest implements the bridge's view of Slurm over slurmrestd's
// v0.0.38 API (and dbv0.0.38 for accounting), as Debian 12's Slurm 22.05
// serves it, with JWTs the bridge signs with the site's HS256 key. One
// Client talks to one cluster: a slurmrestd serves only the cluster of
// its own slurm.conf.
package rest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/user"
	"strings"
	"time"
)

// Config is how to reach one cluster's slurmrestd.
type Config struct {
	// URL is "http://host:port" or "unix:/path/to/socket".
	URL string
	// KeyFile is the cluster's JWT HS256 key (AuthAltParameters=jwt_key):
	// a regular file owned by root (or by the bridge's user when it is not
	// root), not open to group or other.
	KeyFile string
	// User is the Slurm user the bridge queries, cancels and sets time
	// limits as: root or the SlurmUser, or an operator.
	User string
	// SlurmUser is the cluster's SlurmUser, for which no submit is made;
	// "" means "slurm".
	SlurmUser string
	// Timeout bounds each request; zero means 15 s.
	Timeout time.Duration
	// Env is added to every job's environment (the site's slurm_env).
	Env map[string]string
}

// Client implements the bridge's Slurm interface through slurmrestd.
type Client struct {
	cfg    Config
	base   string
	http   *http.Client
	tokens *tokens
	// lookupUser finds a job's POSIX user for its environment; tests
	// replace it.
	lookupUser func(name string) (*user.User, error)
	now        func() time.Time
}

const (
	apiPath   = "/slurm/v0.0.38"
	dbAPIPath = "/slurmdb/v0.0.38"
)

// New checks cfg, reads the key once and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.User == "" {
		return nil, errors.New("slurmrestd: no Slurm user to act as (user:)")
	}
	key, err := ReadKey(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	// 22.05's slurmrestd closes every connection; a reused one could make
	// the transport send a POST again, and a job be submitted twice.
	tr := &http.Transport{DisableKeepAlives: true, MaxResponseHeaderBytes: 1 << 20}
	base := strings.TrimSuffix(cfg.URL, "/")
	switch {
	case strings.HasPrefix(base, "unix:"):
		sock := strings.TrimPrefix(base, "unix:")
		if !strings.HasPrefix(sock, "/") {
			return nil, fmt.Errorf("slurmrestd url %q: give the socket as unix:/absolute/path", cfg.URL)
		}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		base = "http://slurmrestd"
	case strings.HasPrefix(base, "http://"), strings.HasPrefix(base, "https://"):
	default:
		return nil, fmt.Errorf("slurmrestd url %q: want http://host:port or unix:/path", cfg.URL)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.SlurmUser == "" {
		cfg.SlurmUser = "slurm"
	}
	return &Client{
		cfg: cfg, base: base, tokens: newTokens(key), lookupUser: user.Lookup, now: time.Now,
		// Redirects are not followed: slurmrestd sends none.
		http: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}, nil
}
