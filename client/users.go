package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/det-slurm/bridge/api"
)

// Login exchanges a user name and password for a token, and keeps it. The
// password goes as itself (not hashed), so that an account whose password
// predates the bridge's hashing is upgraded by this login.
func (c *Client) Login(ctx context.Context, user, pass string) (string, error) {
	return c.login(ctx, api.LoginRequest{Username: user, Password: pass})
}

// LoginHashed logs in as Determined's clients do: with the password
// hashed (api.PasswordHash) and isHashed set; it keeps the token.
func (c *Client) LoginHashed(ctx context.Context, user, pass string) (string, error) {
	return c.login(ctx, api.LoginRequest{Username: user, Password: api.PasswordHash(pass), IsHashed: true})
}

func (c *Client) login(ctx context.Context, req api.LoginRequest) (string, error) {
	var out api.LoginResponse
	if err := c.Do(ctx, http.MethodPost, Path("auth", "login"), req, &out); err != nil {
		return "", err
	}
	c.Token = out.Token
	return out.Token, nil
}

// MungeLogin exchanges a munge credential for a token, and keeps it. The
// credential's payload must be api.MungePayload of the bridge's address.
func (c *Client) MungeLogin(ctx context.Context, cred string) (string, error) {
	var out api.LoginResponse
	if err := c.Do(ctx, http.MethodPost, Path("auth", "munge"), api.MungeLoginRequest{Credential: strings.TrimSpace(cred)}, &out); err != nil {
		return "", err
	}
	c.Token = out.Token
	return out.Token, nil
}

// Logout revokes the client's token.
func (c *Client) Logout(ctx context.Context) error {
	return c.Do(ctx, http.MethodPost, Path("auth", "logout"), nil, nil)
}

// Me returns the user the client is logged in as.
func (c *Client) Me(ctx context.Context) (*api.User, error) {
	var out api.UserResponse
	if err := c.Do(ctx, http.MethodGet, Path("me"), nil, &out); err != nil {
		return nil, err
	}
	return &out.User, nil
}

// Users lists every user, page by page; with activeOnly only the active
// ones.
func (c *Client) Users(ctx context.Context, activeOnly bool) ([]api.User, error) {
	users := []api.User{}
	for offset := 0; ; {
		q := url.Values{"offset": {fmt.Sprint(offset)}}
		if activeOnly {
			q.Set("active", "true")
		}
		var page api.UsersResponse
		if err := c.Do(ctx, http.MethodGet, Path("users")+"?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		users = append(users, page.Users...)
		if page.Pagination.EndIndex >= page.Pagination.Total || page.Pagination.EndIndex <= offset {
			return users, nil
		}
		offset = page.Pagination.EndIndex
	}
}

// UserByName returns a user by name.
func (c *Client) UserByName(ctx context.Context, name string) (*api.User, error) {
	var out api.UserResponse
	if err := c.Do(ctx, http.MethodGet, Path("users", url.PathEscape(name), "by-username"), nil, &out); err != nil {
		return nil, err
	}
	return &out.User, nil
}

// CreateUser creates an active local user with password pass (admins
// only).
func (c *Client) CreateUser(ctx context.Context, name, pass string, admin bool) (*api.User, error) {
	req := api.PostUserRequest{User: api.User{Username: name, Admin: admin, Active: true}, Password: &pass}
	var out api.UserResponse
	if err := c.Do(ctx, http.MethodPost, Path("users"), req, &out); err != nil {
		return nil, err
	}
	return &out.User, nil
}

// PatchUser changes user id.
func (c *Client) PatchUser(ctx context.Context, id int64, p api.PatchUser) (*api.User, error) {
	var out api.UserResponse
	if err := c.Do(ctx, http.MethodPatch, Path("users", strconv.FormatInt(id, 10)), p, &out); err != nil {
		return nil, err
	}
	return &out.User, nil
}

// PatchUserByName changes the user called name.
func (c *Client) PatchUserByName(ctx context.Context, name string, p api.PatchUser) (*api.User, error) {
	u, err := c.UserByName(ctx, name)
	if err != nil {
		return nil, err
	}
	return c.PatchUser(ctx, u.ID, p)
}

// ChangePassword sets the password of user name: with old, as
// ChangeOwnPassword; without, with no check (an admin's reset of another
// user's password, which revokes all of that user's tokens, or the first
// password of a remote user).
func (c *Client) ChangePassword(ctx context.Context, name, old, password string) error {
	if old != "" {
		_, err := c.ChangeOwnPassword(ctx, name, old, password)
		return err
	}
	_, err := c.PatchUserByName(ctx, name, api.PatchUser{Password: &password})
	return err
}

// ChangeOwnPassword sets the password of user name, logging in with old
// first: the bridge changes one's own password only with the token of a
// recent login. The change revokes every other token of the user, so the
// client takes the new login's token, which it returns.
func (c *Client) ChangeOwnPassword(ctx context.Context, name, old, password string) (string, error) {
	fresh := New(c.Master, "")
	fresh.HTTP = c.HTTP
	tok, err := fresh.Login(ctx, name, old)
	if errors.Is(err, ErrUnauthorized) {
		return "", &APIError{Status: http.StatusForbidden, Message: "the current password is wrong; the password of " + name + " is unchanged"}
	}
	if err != nil {
		return "", fmt.Errorf("check the current password of %s: %w", name, err)
	}
	if _, err := fresh.PatchUserByName(ctx, name, api.PatchUser{Password: &password}); err != nil {
		_ = fresh.Logout(context.WithoutCancel(ctx))
		return "", err
	}
	c.Token = tok
	return tok, nil
}
