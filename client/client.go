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

// errorText is the message of an error answer's body: its message (or
// error.error) in the API's error shape, else the body itself.
func errorText(body []byte) string {
	var e api.Error
	if json.Unmarshal(body, &e) == nil && e.Text() != "" {
		return e.Text()
	}
	return strings.TrimSpace(string(body))
}

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
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		apiErr := &APIError{Status: resp.StatusCode, Message: errorText(data)}
		if resp.StatusCode == http.StatusUnauthorized {
			return nil, fmt.Errorf("%w: %w", ErrUnauthorized, apiErr)
		}
		return nil, apiErr
	}
	return resp, nil
}

// StartNotebook submits a notebook with the given config and context
// archive (nil for none).
func (c *Client) StartNotebook(ctx context.Context, cfg map[string]any, contextTar []byte) (*api.Notebook, error) {
	var nb api.Notebook
	if cfg == nil {
		cfg = map[string]any{}
	}
	err := c.Do(ctx, http.MethodPost, "/api/v1/notebooks", api.NotebookRequest{Config: cfg, Context: contextTar}, &nb)
	return &nb, err
}

// Notebooks lists the notebooks the user may see.
func (c *Client) Notebooks(ctx context.Context) ([]api.Notebook, error) {
	var out api.NotebookList
	err := c.Do(ctx, http.MethodGet, "/api/v1/notebooks", nil, &out)
	return out.Notebooks, err
}

// Notebook returns one notebook by id or unique prefix.
func (c *Client) Notebook(ctx context.Context, id string) (*api.Notebook, error) {
	var nb api.Notebook
	err := c.Do(ctx, http.MethodGet, "/api/v1/notebooks/"+url.PathEscape(id), nil, &nb)
	return &nb, err
}

// KillNotebook kills a notebook by id or unique prefix.
func (c *Client) KillNotebook(ctx context.Context, id string) (*api.Notebook, error) {
	var nb api.Notebook
	err := c.Do(ctx, http.MethodPost, "/api/v1/notebooks/"+url.PathEscape(id)+"/kill", nil, &nb)
	return &nb, err
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
