package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/jobspec"
)

// Kind is a kind of task and the routes that serve it.
type Kind struct {
	Name string // "notebook" or "shell"
	path string // Path("notebooks")
}

// The kinds of tasks.
var (
	NotebookKind = Kind{Name: jobspec.KindNotebook, path: Path("notebooks")}
	ShellKind    = Kind{Name: jobspec.KindShell, path: Path("shells")}
)

// Launched is the answer to a launch: the task and the merged config it
// runs with (for a preview, the config it would run with).
type Launched struct {
	Task   api.Notebook
	Config json.RawMessage
	// Shell is the whole answer for a shell (its SSH key and user); nil
	// for a notebook.
	Shell *api.Shell
}

// Launch sends a launch request for a task of kind k (Determined's
// LaunchNotebook or LaunchShell); Files and Config are sent as [] and {}
// when nil.
func (c *Client) Launch(ctx context.Context, k Kind, req api.LaunchRequest) (*Launched, error) {
	if req.Config == nil {
		req.Config = map[string]any{}
	}
	if req.Files == nil {
		req.Files = []api.File{}
	}
	if k == ShellKind {
		var out api.LaunchShellResponse
		if err := c.Do(ctx, http.MethodPost, k.path, req, &out); err != nil {
			return nil, err
		}
		return &Launched{Task: out.Shell.Notebook, Config: out.Config, Shell: &out.Shell}, nil
	}
	var out api.LaunchNotebookResponse
	if err := c.Do(ctx, http.MethodPost, k.path, req, &out); err != nil {
		return nil, err
	}
	return &Launched{Task: out.Notebook, Config: out.Config}, nil
}

// StartNotebook launches a notebook with the given config and context
// files (nil for none).
func (c *Client) StartNotebook(ctx context.Context, cfg map[string]any, files []api.File) (*api.Notebook, error) {
	l, err := c.Launch(ctx, NotebookKind, api.LaunchRequest{Config: cfg, Files: files})
	if err != nil {
		return nil, err
	}
	return &l.Task, nil
}

// List lists the tasks of kind k the user may see.
func (c *Client) List(ctx context.Context, k Kind) ([]api.Notebook, error) {
	if k == ShellKind {
		var out api.GetShellsResponse
		err := c.Do(ctx, http.MethodGet, k.path, nil, &out)
		tasks := make([]api.Notebook, len(out.Shells))
		for i := range out.Shells {
			tasks[i] = out.Shells[i].Notebook
		}
		return tasks, err
	}
	var out api.GetNotebooksResponse
	err := c.Do(ctx, http.MethodGet, k.path, nil, &out)
	return out.Notebooks, err
}

// Notebooks lists the notebooks the user may see.
func (c *Client) Notebooks(ctx context.Context) ([]api.Notebook, error) {
	return c.List(ctx, NotebookKind)
}

// Get returns a task of kind k, by id or unique prefix, and the merged
// config it runs with.
func (c *Client) Get(ctx context.Context, k Kind, id string) (*Launched, error) {
	p := k.path + "/" + url.PathEscape(id)
	if k == ShellKind {
		var out api.GetShellResponse
		if err := c.Do(ctx, http.MethodGet, p, nil, &out); err != nil {
			return nil, err
		}
		return &Launched{Task: out.Shell.Notebook, Config: out.Config, Shell: &out.Shell}, nil
	}
	var out api.GetNotebookResponse
	if err := c.Do(ctx, http.MethodGet, p, nil, &out); err != nil {
		return nil, err
	}
	return &Launched{Task: out.Notebook, Config: out.Config}, nil
}

// Notebook returns one notebook by id or unique prefix.
func (c *Client) Notebook(ctx context.Context, id string) (*api.Notebook, error) {
	l, err := c.Get(ctx, NotebookKind, id)
	if err != nil {
		return nil, err
	}
	return &l.Task, nil
}

// Kill kills a task of kind k by id or unique prefix and returns it.
func (c *Client) Kill(ctx context.Context, k Kind, id string) (*api.Notebook, error) {
	p := k.path + "/" + url.PathEscape(id) + "/kill"
	if k == ShellKind {
		var out api.KillShellResponse
		if err := c.Do(ctx, http.MethodPost, p, nil, &out); err != nil {
			return nil, err
		}
		return &out.Shell.Notebook, nil
	}
	var out api.KillNotebookResponse
	if err := c.Do(ctx, http.MethodPost, p, nil, &out); err != nil {
		return nil, err
	}
	return &out.Notebook, nil
}

// KillNotebook kills a notebook by id or unique prefix.
func (c *Client) KillNotebook(ctx context.Context, id string) (*api.Notebook, error) {
	return c.Kill(ctx, NotebookKind, id)
}
