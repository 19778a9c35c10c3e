package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// client returns an authenticated client: DET_USER/DET_PASS when set, else
// the stored token, else the default user "determined" with an empty
// password, as Determined's CLI does.
func (g *globals) client(ctx context.Context) (bridgeClient, error) {
	if tok := os.Getenv("DET_USER_TOKEN"); tok != "" {
		return g.newClient(g.master, tok), nil // inside a notebook: the owner's token, valid while the task lives
	}
	c := g.newClient(g.master, "")
	if u, ok := os.LookupEnv("DET_USER"); ok {
		if _, err := c.Login(ctx, u, os.Getenv("DET_PASS")); err != nil {
			return nil, fmt.Errorf("log in as %s (DET_USER): %w", u, err)
		}
		return c, nil
	}
	if saved := g.tokens.load(g.master); saved.Token != "" {
		sc := g.newClient(g.master, saved.Token)
		if _, err := sc.Me(ctx); !errors.Is(err, client.ErrUnauthorized) {
			return sc, nil // valid, or the bridge cannot say now: the command will tell
		}
		// The bridge no longer takes the saved token (it expired, or the
		// bridge's database is new): forget it and go on as without one,
		// as Determined's CLI does.
		_ = g.tokens.forget(g.master)
	}
	if g.mungeLogin(ctx, c) {
		return c, nil
	}
	if _, err := c.Login(ctx, "determined", ""); err != nil {
		if errors.Is(err, client.ErrUnauthorized) {
			return nil, fmt.Errorf("not logged in to %s: %w", g.master, client.ErrUnauthorized)
		}
		return nil, err
	}
	return c, nil
}

// mungeLogin proves the caller's POSIX identity with munge, where the host
// has it, and takes the token of the bridge user linked to it. The
// credential's payload names the bridge (api.MungePayload), which takes
// no credential made for anything else.
func (g *globals) mungeLogin(ctx context.Context, c bridgeClient) bool {
	path, err := exec.LookPath("munge")
	if err != nil {
		return false
	}
	cred, err := exec.CommandContext(ctx, path, "-s", api.MungePayload(g.master)).Output()
	if err != nil {
		return false
	}
	_, err = c.MungeLogin(ctx, string(cred))
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Status != http.StatusNotFound && os.Geteuid() != 0 {
		// Say why, rather than go on silently as another user (root is
		// never given a munge login, as it is never a notebook's user).
		fmt.Fprintf(g.con.ErrOut, "warning: %s refused the munge login: %s\n", g.master, ae.Message)
	}
	return err == nil
}

// tokenFile is ~/.det/auth.json (or auth.json in dir): one token per
// bridge address.
type tokenFile struct {
	dir string // "" for ~/.det
}

type authFile struct {
	Masters map[string]savedToken `json:"masters"`
}

type savedToken struct {
	Username string `json:"username"`
	Token    string `json:"token"`
}

// masterKey is the key of a bridge's token: its address without a
// trailing slash.
func masterKey(master string) string { return strings.TrimSuffix(master, "/") }

func (f tokenFile) path() (string, error) {
	dir := f.dir
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find home folder for ~/.det: %w", err)
		}
		dir = filepath.Join(home, ".det")
	}
	return filepath.Join(dir, "auth.json"), nil
}

func (f tokenFile) read() authFile {
	var a authFile
	if p, err := f.path(); err == nil {
		if data, err := os.ReadFile(p); err == nil {
			_ = json.Unmarshal(data, &a)
		}
	}
	if a.Masters == nil {
		a.Masters = map[string]savedToken{}
	}
	return a
}

func (f tokenFile) write(a authFile) error {
	p, err := f.path()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(p), err)
	}
	data, _ := json.MarshalIndent(a, "", "  ")
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	return os.Rename(tmp, p)
}

// load returns the token saved for master (empty for none).
func (f tokenFile) load(master string) savedToken { return f.read().Masters[masterKey(master)] }

// save keeps the token of user at master.
func (f tokenFile) save(master string, t savedToken) error {
	a := f.read()
	a.Masters[masterKey(master)] = t
	return f.write(a)
}

// forget drops the token saved for master.
func (f tokenFile) forget(master string) error {
	a := f.read()
	delete(a.Masters, masterKey(master))
	return f.write(a)
}
