package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/det-slurm/bridge/api"
)

// Extend adds by ("1h", "90m", or minutes) to the time limit of a running
// task of kind k, by id or unique prefix, and returns the task with its
// new time remaining and what the extension did.
func (c *Client) Extend(ctx context.Context, k Kind, id, by string) (*api.Notebook, *api.Extension, error) {
	p := k.path + "/" + url.PathEscape(id) + "/extend"
	req := api.ExtendRequest{By: by}
	if k == ShellKind {
		var out api.ExtendShellResponse
		if err := c.Do(ctx, http.MethodPost, p, req, &out); err != nil {
			return nil, nil, err
		}
		return &out.Shell.Notebook, &out.Extension, nil
	}
	var out api.ExtendNotebookResponse
	if err := c.Do(ctx, http.MethodPost, p, req, &out); err != nil {
		return nil, nil, err
	}
	return &out.Notebook, &out.Extension, nil
}

// Relaunched is the answer to a relaunch: the new task, its config, what
// could not be carried over, and the ended task it replaces.
type Relaunched struct {
	Task     api.Notebook
	Config   json.RawMessage
	Warnings []string
	Replaces string
}

// Relaunch starts an ended task of kind k (by id or unique prefix) again,
// with its config, pool and context files.
func (c *Client) Relaunch(ctx context.Context, k Kind, id string) (*Relaunched, error) {
	p := k.path + "/" + url.PathEscape(id) + "/relaunch"
	if k == ShellKind {
		var out api.RelaunchShellResponse
		if err := c.Do(ctx, http.MethodPost, p, nil, &out); err != nil {
			return nil, err
		}
		return &Relaunched{Task: out.Shell.Notebook, Config: out.Config, Warnings: out.Warnings, Replaces: out.Replaces}, nil
	}
	var out api.RelaunchNotebookResponse
	if err := c.Do(ctx, http.MethodPost, p, nil, &out); err != nil {
		return nil, err
	}
	return &Relaunched{Task: out.Notebook, Config: out.Config, Warnings: out.Warnings, Replaces: out.Replaces}, nil
}
