package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// Item 9: values the bridge must refuse before anything is queued, and
// requests it must answer with a 4xx instead of a redirect or a 500.
func init() {
	addSecCase(9, "work-dir-option-relative-nul", func(t *testing.T) {
		alice := asUser(t, "alice")
		for _, wd := range []string{"-x", "--pwd=/etc", "notebooks", "/tmp/a\x00b", "/tmp/../etc", "/tmp/a\nb"} {
			cfg := cpuNotebook()
			cfg["work_dir"] = wd
			refusedStart(t, alice, cfg, nil, "work_dir")
		}
	})
	addSecCase(9, "env-value-nul", func(t *testing.T) {
		alice := asUser(t, "alice")
		for _, kv := range []string{"EVIL=a\x00b", "EVIL=a\nb", "EVIL=\x1b]0;x\x07"} {
			cfg := cpuNotebook()
			cfg["environment"] = map[string]any{"environment_variables": []any{kv}}
			refusedStart(t, alice, cfg, nil, "environment.environment_variables[EVIL]")
		}
		cfg := cpuNotebook()
		cfg["environment"] = map[string]any{"environment_variables": []any{"BAD NAME=x"}}
		refusedStart(t, alice, cfg, nil, "environment.environment_variables[0]")
	})
	addSecCase(9, "fractional-slots", func(t *testing.T) {
		alice := asUser(t, "alice")
		for _, slots := range []any{2.5, 0.5, -1} {
			refusedStart(t, alice, map[string]any{"resources": map[string]any{"slots": slots}}, nil, "resources.slots")
		}
	})
	addSecCase(9, "huge-description", func(t *testing.T) {
		alice := asUser(t, "alice")
		cfg := cpuNotebook()
		cfg["description"] = strings.Repeat("d", 10<<20)
		refusedStart(t, alice, cfg, nil, "")
		cfg["description"] = strings.Repeat("d", 1001)
		refusedStart(t, alice, cfg, nil, "description")
	})
	addSecCase(9, "sbatch-args-override-pool", func(t *testing.T) {
		alice := asUser(t, "alice")
		// Pool interactive sets --account=physics and --qos=interactive.
		for arg, opt := range map[string]string{
			"--account=other": "--account", "-Aother": "--account", "--acc=other": "--account",
			"--qos=normal": "--qos", "-qnormal": "--qos", "--qo=normal": "--qos",
		} {
			cfg := map[string]any{
				"resources": map[string]any{"slots": 1, "resource_pool": "interactive"},
				"slurm":     map[string]any{"sbatch_args": []any{arg}},
			}
			msg := refusedStart(t, alice, cfg, nil, opt)
			if !strings.Contains(msg, "interactive") {
				t.Errorf("sbatch_args %s: the answer does not name the pool: %s", arg, msg)
			}
		}
	})
	addSecCase(9, "context-files-escape", func(t *testing.T) {
		alice := asUser(t, "alice")
		// Only regular files and folders, by clean relative paths: no
		// links (which could lead out of the working directory), no "..",
		// no absolute paths, nothing under a file.
		x := "eA==" // "x"
		for _, c := range []struct {
			files []api.File
			want  string
		}{
			{[]api.File{{Path: "a", Type: '2'}}, `files: "a": is a symbolic link`},
			{[]api.File{{Path: "h", Type: '1'}}, `files: "h": is a hard link`},
			{[]api.File{{Path: "../escape", Type: api.FileTypeRegular, Content: x}}, `files: "../escape": leaves the working directory`},
			{[]api.File{{Path: "a/../../escape", Type: api.FileTypeRegular, Content: x}}, `files: "a/../../escape": leaves`},
			{[]api.File{{Path: "/etc/cron.d/evil", Type: api.FileTypeRegular, Content: x}}, `files: "/etc/cron.d/evil": is absolute`},
			{[]api.File{{Path: "f", Type: api.FileTypeRegular, Content: x}, {Path: "f/g", Type: api.FileTypeRegular, Content: x}}, `files: "f/g": lies under the file "f"`},
			{[]api.File{{Path: "d", Type: '3'}}, `files: "d": is a device`},
		} {
			refusedStart(t, alice, cpuNotebook(), c.files, c.want)
		}
	})
	addSecCase(9, "dot-segments-no-redirect", func(t *testing.T) {
		alice := asUser(t, "alice")
		id := "00000000-0000-4000-8000-000000000009"
		for _, target := range []string{
			client.Path("..") + client.Path("me"),
			client.Path(".", "me"),
			client.Path("%2e%2e") + client.Path("users"),
			client.Path("users%2Fadmin"),
			client.Path("users%2fadmin"),
			"/proxy/" + id + "/../.." + client.Path("users"),
			"/proxy/" + id + "/..%2F..%2F" + strings.TrimPrefix(client.Path("users"), "/"),
			"/det/.." + client.Path("users"),
			"/" + client.Path("me"),
		} {
			resp, body := rawHTTP(t, "GET "+target+" HTTP/1.1\r\nHost: "+masterHost(t)+"\r\nAuthorization: Bearer "+alice.Token+"\r\nConnection: close\r\n\r\n")
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || resp.Header.Get("Location") != "" {
				t.Errorf("GET %s: %d Location=%q %.200s, want a 4xx and no redirect", target, resp.StatusCode, resp.Header.Get("Location"), body)
			}
		}
	})
	addSecCase(9, "long-url-414", func(t *testing.T) {
		alice := asUser(t, "alice")
		long := strings.Repeat("a", 100<<10)
		for _, target := range []string{client.Path("notebooks", long), "/proxy/" + long + "/", client.Path("me") + "?x=" + long} {
			resp, body := rawHTTP(t, "GET "+target+" HTTP/1.1\r\nHost: "+masterHost(t)+"\r\nAuthorization: Bearer "+alice.Token+"\r\nConnection: close\r\n\r\n")
			if resp.StatusCode != http.StatusRequestURITooLong {
				t.Errorf("GET %.40s... (%d bytes): %d %.200s, want 414", target, len(target), resp.StatusCode, body)
			}
		}
	})
	addSecCase(9, "oversize-body-expect-continue", func(t *testing.T) {
		alice := asUser(t, "alice")
		for _, c := range []struct {
			path, auth, limit string
			size              int64
		}{
			{client.Path("auth", "login"), "", "1 MiB", 2 << 20},
			{client.Path("notebooks"), "Authorization: Bearer " + alice.Token + "\r\n", "MiB", 1 << 30},
		} {
			// The headers only: the body is never sent, so an answer at all
			// proves the bridge decided from Content-Length; a "100 Continue"
			// first would mean it asked for the body.
			resp, body := rawHTTP(t, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
				c.path, masterHost(t), c.auth, c.size))
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, c.limit) {
				t.Errorf("POST %s declaring %d bytes: %d %.200s, want 413 naming the limit (%s)", c.path, c.size, resp.StatusCode, body, c.limit)
			}
		}
	})
}

// refusedStart starts a notebook that must be refused with a 4xx whose
// message contains want, and checks that nothing was queued: no new task
// of the user and no new Slurm job of the user. It returns the message.
func refusedStart(t *testing.T, c *client.Client, cfg map[string]any, files []api.File, want string) string {
	t.Helper()
	before := taskIDs(t, c)
	jobsBefore := slurmJobNames(t, "alice")
	nb, err := c.StartNotebook(ctxT(t, time.Minute), cfg, files)
	var ae *client.APIError
	if !errors.As(err, &ae) {
		if err == nil {
			_, _ = c.KillNotebook(ctxT(t, 10*time.Second), nb.ID)
		}
		t.Errorf("config %.200v: got %v, want a refusal naming %q", cfg, err, want)
		return ""
	}
	if ae.Status != http.StatusBadRequest && ae.Status != http.StatusRequestEntityTooLarge || !strings.Contains(ae.Message, want) {
		t.Errorf("config %.200v: %d %.300s, want 400 naming %q", cfg, ae.Status, ae.Message, want)
	}
	if len(ae.Message) > 4<<10 {
		t.Errorf("config %.200v: the refusal is %d bytes long; it echoes the value", cfg, len(ae.Message))
	}
	for id := range taskIDs(t, c) {
		if !before[id] {
			t.Errorf("config %.200v: refused, yet task %s exists", cfg, id)
			_, _ = c.KillNotebook(ctxT(t, 10*time.Second), id)
		}
	}
	for name := range slurmJobNames(t, "alice") {
		if !jobsBefore[name] {
			t.Errorf("config %.200v: refused, yet Slurm job %s was queued", cfg, name)
		}
	}
	return ae.Message
}

func taskIDs(t *testing.T, c *client.Client) map[string]bool {
	t.Helper()
	nbs, err := c.Notebooks(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatalf("list notebooks: %v", err)
	}
	ids := map[string]bool{}
	for _, nb := range nbs {
		ids[nb.ID] = true
	}
	return ids
}

// slurmJobNames lists the names of the POSIX user's jobs Slurm knows.
func slurmJobNames(t *testing.T, posix string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, l := range strings.Fields(run(t, "squeue", "-h", "-u", posix, "-o", "%i:%j")) {
		names[l] = true
	}
	return names
}

func masterHost(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(master)
	if err != nil || u.Host == "" {
		t.Fatalf("DET_MASTER %q is not a URL", master)
	}
	return u.Host
}

// rawHTTP writes req, exactly as given, on a new connection to the bridge
// and reads the first response: no client cleans the path, follows a
// redirect or sends a body it was not given.
func rawHTTP(t *testing.T, req string) (*http.Response, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", masterHost(t), 10*time.Second)
	if err != nil {
		t.Fatalf("dial the bridge: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatalf("send request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer to %.80q: %v", req, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp, string(body)
}
