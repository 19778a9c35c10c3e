package client

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/websocket"
)

// DialShell opens the websocket of a running shell (by its full id)
// through the bridge's proxy: keystrokes and output in binary messages,
// control messages (api.ShellControl) in text messages.
func (c *Client) DialShell(ctx context.Context, id string) (*websocket.Conn, error) {
	u := "ws" + strings.TrimPrefix(c.Master, "http") + "/proxy/" + id + "/shell"
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, u, http.Header{"Authorization": {"Bearer " + c.Token}})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("the bridge answered %s", resp.Status)
		}
		return nil, err
	}
	return conn, nil
}

// URL is the bridge's address of path (a task's service address, such
// as "/proxy/<id>/").
func (c *Client) URL(path string) string { return c.Master + path }
