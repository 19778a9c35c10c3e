// Package client is the Go client of the bridge's REST API, used by the
// CLI, the end-to-end tests and the benchmarks.
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/det-slurm/bridge/bridge/api"
)

// Client talks to one bridge ("master").
type Client struct {
	Master string // e.g. http://127.0.0.1:8080
	Token  string
	HTTP   *http.Client
}

// New returns a client for master with the given token.
func New(master, token string) *Client {
	return &Client{Master: strings.TrimSuffix(master, "/"), Token: token, HTTP: &http.Client{}}
}

// APIError is an error answer from the bridge.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return e.Message }

// ErrUnauthorized is wrapped by errors for 401 answers.
var ErrUnauthorized = errors.New("not logged in")

// Do sends a request with a JSON body (nil for none) and decodes a JSON
// answer into out (nil to discard it).
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func (c *Client) send(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Master+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the bridge at %s (is it running? set -m or DET_MASTER): %w", c.Master, err)
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		var e api.Error
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		apiErr := &APIError{Status: resp.StatusCode, Message: e.Error}
		if resp.StatusCode == http.StatusUnauthorized {
			return nil, fmt.Errorf("%w: %w", ErrUnauthorized, apiErr)
		}
		return nil, apiErr
	}
	return resp, nil
}

// Login exchanges a user name and password for a token, and keeps it.
func (c *Client) Login(ctx context.Context, user, pass string) (string, error) {
	var out api.LoginResponse
	if err := c.Do(ctx, http.MethodPost, "/api/v1/auth/login", api.LoginRequest{Username: user, Password: pass}, &out); err != nil {
		return "", err
	}
	c.Token = out.Token
	return out.Token, nil
}

// MungeLogin exchanges a munge credential for a token, and keeps it. The
// credential's payload must be api.MungePayload of the bridge's address.
func (c *Client) MungeLogin(ctx context.Context, cred string) (string, error) {
	var out api.LoginResponse
	if err := c.Do(ctx, http.MethodPost, "/api/v1/auth/munge", api.MungeLoginRequest{Credential: strings.TrimSpace(cred)}, &out); err != nil {
		return "", err
	}
	c.Token = out.Token
	return out.Token, nil
}

// ChangePassword sets the password of user name. For one's own password
// old is the current one, and every other token of the user is revoked;
// an admin resetting another user's password gives old "", and every token
// of that user is revoked.
func (c *Client) ChangePassword(ctx context.Context, name, old, password string) error {
	return c.Do(ctx, http.MethodPost, "/api/v1/users/"+url.PathEscape(name)+"/password", api.PasswordRequest{Password: password, OldPassword: old}, nil)
}

// LogOptions select which log lines to stream.
type LogOptions struct {
	Follow bool
	Head   int // only the first N lines; 0 for all
	Tail   int // start with the last N lines; 0 for all
}

// Logs streams a task's log lines to fn until the stream ends (with
// follow, when the task has ended) or ctx is done.
func (c *Client) Logs(ctx context.Context, id string, o LogOptions, fn func(api.LogLine) error) error {
	resp, err := c.send(ctx, http.MethodGet, fmt.Sprintf("/api/v1/tasks/%s/logs?follow=%t&head=%d&tail=%d", url.PathEscape(id), o.Follow, o.Head, o.Tail), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var l api.LogLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("decode log line: %w", err)
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("read logs: %w", err)
	}
	return nil
}
