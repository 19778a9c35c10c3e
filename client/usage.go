package client

import (
	"context"
	"net/http"
	"strconv"

	"github.com/det-slurm/bridge/api"
)

// Usage reads the pools' usage history of the last hours (admins only).
func (c *Client) Usage(ctx context.Context, hours int) (*api.UsageResponse, error) {
	var out api.UsageResponse
	if err := c.Do(ctx, http.MethodGet, Path("admin", "usage")+"?hours="+strconv.Itoa(hours), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
