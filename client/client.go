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
	"strconv"
	"strings"

	"github.com/det-slurm/bridge/api"
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
// error.error) in the API's error shape, or error in a plain
// {"error": "..."}, else the body itself.
func errorText(body []byte) string {
	var e api.Error
	if json.Unmarshal(body, &e) == nil && e.Text() != "" {
		return e.Text()
	}
	var plain struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &plain) == nil && plain.Error != "" {
		return plain.Error
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

// LogOptions select which log lines to stream. Head and Tail are
// Determined's --head and --tail; with Follow, Tail starts with the last
// lines and goes on.
type LogOptions struct {
	Follow bool
	Head   int // only the first N lines; 0 for all
	Tail   int // only the last N lines; 0 for all
}

// logStreamLine is one line of a log stream: a log line, or the error
// that ended the stream.
type logStreamLine struct {
	Result *api.TaskLog `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Logs gives a task's log lines to fn, oldest first, until the stream ends
// (with follow, when the task has ended) or ctx is done.
func (c *Client) Logs(ctx context.Context, id string, o LogOptions, fn func(api.TaskLog) error) error {
	q := url.Values{"follow": {strconv.FormatBool(o.Follow)}}
	switch {
	case o.Tail > 0:
		q.Set("limit", strconv.Itoa(o.Tail))
		q.Set("orderBy", api.OrderByDesc)
	case o.Head > 0:
		q.Set("limit", strconv.Itoa(o.Head))
	}
	// Without follow, the last lines come newest first.
	newestFirst := o.Tail > 0 && !o.Follow
	var held []api.TaskLog
	err := c.streamLogs(ctx, Path("tasks", url.PathEscape(id), "logs")+"?"+q.Encode(), func(l api.TaskLog) error {
		if newestFirst {
			held = append(held, l)
			return nil
		}
		return fn(l)
	})
	if err != nil {
		return err
	}
	for i := len(held) - 1; i >= 0; i-- {
		if err := fn(held[i]); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) streamLogs(ctx context.Context, path string, fn func(api.TaskLog) error) error {
	resp, err := c.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var l logStreamLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("decode log line: %w", err)
		}
		if l.Error != nil {
			return fmt.Errorf("the log stream broke off: %s", l.Error.Message)
		}
		if l.Result == nil {
			continue
		}
		if err := fn(*l.Result); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("read logs: %w", err)
	}
	return nil
}

// Task returns one task (a notebook or shell) by id or unique prefix.
func (c *Client) Task(ctx context.Context, id string) (*api.Task, error) {
	var out api.GetTaskResponse
	err := c.Do(ctx, http.MethodGet, Path("tasks", url.PathEscape(id)), nil, &out)
	return &out.Task, err
}

// ResourcePools lists the resource pools and their capacity.
func (c *Client) ResourcePools(ctx context.Context) ([]api.ResourcePool, error) {
	var out api.GetResourcePoolsResponse
	err := c.Do(ctx, http.MethodGet, Path("resource-pools"), nil, &out)
	return out.ResourcePools, err
}

// Tasks lists the live tasks the user may see, by allocation id.
func (c *Client) Tasks(ctx context.Context) (map[string]api.AllocationSummary, error) {
	var out api.GetTasksResponse
	err := c.Do(ctx, http.MethodGet, Path("tasks"), nil, &out)
	return out.AllocationIDToSummary, err
}

// MasterInfo returns the bridge's description of itself, with its view
// of Slurm (whether it is stale, since when and why).
func (c *Client) MasterInfo(ctx context.Context) (*api.Master, error) {
	var out api.Master
	if err := c.Do(ctx, http.MethodGet, Path("master"), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Agents lists the agents (the Slurm nodes of the resource pools).
func (c *Client) Agents(ctx context.Context) ([]api.Agent, error) {
	var out api.GetAgentsResponse
	err := c.Do(ctx, http.MethodGet, Path("agents"), nil, &out)
	return out.Agents, err
}
