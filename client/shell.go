package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/websocket"
)

// DialShell opens the websocket of a running shell (by its full id)
// through the bridge's proxy: keystrokes and output in binary messages,
// control messages (api.ShellControl) in text messages.
func (c *Client) DialShell(ctx context.Context, id string) (*websocket.Conn, error) {
	return c.dial(ctx, "/proxy/"+url.PathEscape(id)+"/shell")
}

// DialSSH opens the websocket of a running shell's SSH server (by its full
// id): the shell's service address, whose binary messages carry the SSH
// connection's bytes both ways (see api.Shell).
func (c *Client) DialSSH(ctx context.Context, id string) (*websocket.Conn, error) {
	return c.dial(ctx, "/proxy/"+url.PathEscape(id)+"/")
}

// dial opens a websocket to path on the bridge with the client's token. A
// refusal names the HTTP status and the bridge's message.
func (c *Client) dial(ctx context.Context, path string) (*websocket.Conn, error) {
	u := "ws" + strings.TrimPrefix(c.Master, "http") + path
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, u, http.Header{"Authorization": {"Bearer " + c.Token}})
	if err == nil {
		return conn, nil
	}
	if resp == nil {
		return nil, fmt.Errorf("cannot reach the bridge at %s: %w", c.Master, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := "the bridge answered " + resp.Status
	if text := errorText(data); text != "" {
		msg += ": " + text
	}
	apiErr := &APIError{Status: resp.StatusCode, Message: msg}
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, fmt.Errorf("%w: %w", ErrUnauthorized, apiErr)
	}
	return nil, apiErr
}

// URL is the bridge's address of path (a task's service address, such
// as "/proxy/<id>/").
func (c *Client) URL(path string) string { return c.Master + path }
