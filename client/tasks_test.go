package client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/det-slurm/bridge/api"
)

// TestLaunchAndKinds: a launch sends an empty config and file list as {}
// and [], never null; each kind uses its own routes and answers.
func TestLaunchAndKinds(t *testing.T) {
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, r.Method+" "+r.URL.Path+" "+string(b))
		sh := api.Shell{Notebook: api.Notebook{ID: "s1", State: api.StateQueued}, PrivateKey: "k"}
		nb := api.Notebook{ID: "n1", State: api.StateQueued}
		var out any
		switch r.Method + " " + r.URL.Path {
		case "POST /api/v1/notebooks":
			out = api.LaunchNotebookResponse{Notebook: nb, Config: json.RawMessage(`{}`), Warnings: []string{}}
		case "POST /api/v1/shells":
			out = api.LaunchShellResponse{Shell: sh, Config: json.RawMessage(`{"a":1}`), Warnings: []string{}}
		case "GET /api/v1/shells":
			out = api.GetShellsResponse{Shells: []api.Shell{sh}}
		case "GET /api/v1/shells/s1":
			out = api.GetShellResponse{Shell: sh, Config: json.RawMessage(`{"b":2}`)}
		case "POST /api/v1/shells/s1/kill":
			out = api.KillShellResponse{Shell: sh}
		case "GET /api/v1/notebooks/n1":
			out = api.GetNotebookResponse{Notebook: nb, Config: json.RawMessage(`{}`)}
		default:
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	defer srv.Close()
	c := New(srv.URL, "t")
	ctx := context.Background()
	if nb, err := c.StartNotebook(ctx, nil, nil); err != nil || nb.ID != "n1" {
		t.Fatalf("start: %+v %v", nb, err)
	}
	if want := `POST /api/v1/notebooks {"config":{},"files":[]}`; bodies[0] != want {
		t.Errorf("sent %q, want %q", bodies[0], want)
	}
	l, err := c.Launch(ctx, ShellKind, api.LaunchRequest{Preview: true})
	if err != nil || l.Task.ID != "s1" || string(l.Config) != `{"a":1}` {
		t.Fatalf("shell launch: %+v %v", l, err)
	}
	if list, err := c.List(ctx, ShellKind); err != nil || len(list) != 1 || list[0].ID != "s1" {
		t.Errorf("shells: %+v %v", list, err)
	}
	if got, err := c.Get(ctx, ShellKind, "s1"); err != nil || got.Task.ID != "s1" || string(got.Config) != `{"b":2}` {
		t.Errorf("shell: %+v %v", got, err)
	}
	if got, err := c.Kill(ctx, ShellKind, "s1"); err != nil || got.ID != "s1" {
		t.Errorf("kill shell: %+v %v", got, err)
	}
	if got, err := c.Notebook(ctx, "n1"); err != nil || got.ID != "n1" {
		t.Errorf("notebook: %+v %v", got, err)
	}
	if _, err := c.Notebook(ctx, "s1"); err == nil {
		t.Error("a shell's id read as a notebook")
	}
}

// TestLogsTail: --tail asks for the newest lines first and gives them
// oldest first; with follow, in the order they come.
func TestLogsTail(t *testing.T) {
	var query url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Query()
		order := []string{"1", "2", "3"}
		if query.Get("orderBy") == api.OrderByDesc {
			order = []string{"3", "2"}
		}
		for _, n := range order {
			_ = json.NewEncoder(w).Encode(api.TaskLogsLine{Result: api.TaskLog{ID: "job-" + n, Message: "line-" + n + "\n"}})
		}
	}))
	defer srv.Close()
	c := New(srv.URL, "t")
	var got string
	collect := func(l api.TaskLog) error { got += l.Message; return nil }
	if err := c.Logs(context.Background(), "abcd", LogOptions{Tail: 2}, collect); err != nil || got != "line-2\nline-3\n" {
		t.Errorf("--tail 2: %v %q", err, got)
	}
	if query.Get("limit") != "2" || query.Get("orderBy") != api.OrderByDesc || query.Get("follow") != "false" {
		t.Errorf("query %v", query)
	}
	got = ""
	if err := c.Logs(context.Background(), "abcd", LogOptions{Head: 1, Follow: true}, collect); err != nil || got != "line-1\nline-2\nline-3\n" || query.Get("limit") != "1" || query.Get("follow") != "true" || query.Has("orderBy") {
		t.Errorf("--head 1 -f: %v %q, query %v", err, got, query)
	}
}
