package client

import (
	"context"
	"net/http"

	"github.com/det-slurm/bridge/api"
)

// Settings returns the user's settings (the WebUI's launch shortcut and
// its default).
func (c *Client) Settings(ctx context.Context) (*api.Settings, error) {
	var out api.Settings
	if err := c.Do(ctx, http.MethodGet, Path("me", "settings"), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PutSettings saves the user's settings.
func (c *Client) PutSettings(ctx context.Context, s api.Settings) error {
	return c.Do(ctx, http.MethodPut, Path("me", "settings"), s, nil)
}
