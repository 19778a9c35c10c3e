package suite

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// cpuProfile records a CPU profile from a pprof server while load runs,
// saves it under the results folder and returns the top of
// `go tool pprof -top -cum`.
func (e *env) cpuProfile(ctx context.Context, pprofAddr, name string, load func() error) ([]string, error) {
	secs := max(1, int(e.plan.profile.Seconds()))
	type got struct {
		data []byte
		err  error
	}
	ch := make(chan got, 1)
	go func() {
		time.Sleep(300 * time.Millisecond) // let the load start
		c := &http.Client{Timeout: time.Duration(secs+20) * time.Second}
		resp, err := c.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, secs))
		if err != nil {
			ch <- got{err: err}
			return
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		ch <- got{data, err}
	}()
	if err := load(); err != nil {
		return nil, err
	}
	g := <-ch
	if g.err != nil {
		return nil, fmt.Errorf("CPU profile: %w", g.err)
	}
	return e.keepProfile(ctx, name, g.data, "-cum")
}

// heapProfile saves the heap profile of the process of the pprof server
// at pprofAddr, after a garbage collection, and returns the top of
// `go tool pprof -top -sample_index=inuse_space`: what holds the memory
// in use.
func (e *env) heapProfile(ctx context.Context, pprofAddr, name string) ([]string, error) {
	data, err := pprofGet(ctx, pprofAddr, "/debug/pprof/heap?gc=1")
	if err != nil {
		return nil, fmt.Errorf("heap profile: %w", err)
	}
	return e.keepProfile(ctx, name, []byte(data), "-sample_index=inuse_space")
}

// keepProfile saves a profile under the results folder, keeps the top of
// `go tool pprof -top` (with the given option) by name and returns it.
func (e *env) keepProfile(ctx context.Context, name string, data []byte, opt string) ([]string, error) {
	dir := filepath.Join(e.opts.out, "profiles")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, e.res.Started.UTC().Format("20060102T150405Z")+"-"+name+".pprof")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", opt, "-nodecount=60", e.exe, path).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go tool pprof: %w\n%s", err, out)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Type:") || strings.HasPrefix(l, "Time:") {
			continue
		}
		lines = append(lines, l)
	}
	e.logf("profile %s saved to %s", name, path)
	if e.profiles == nil {
		e.profiles = map[string][]string{}
	}
	e.profiles[name] = lines
	return lines, nil
}

// version runs a command and returns the first match of what in its
// output, or "?".
func version(what string, argv ...string) string {
	out, _ := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	for _, f := range strings.Fields(string(bytes.TrimSpace(out))) {
		if strings.Contains(f, what) {
			return strings.TrimPrefix(strings.TrimPrefix(f, what), "v")
		}
	}
	return "?"
}

func nginxVersion() string { return version("nginx/", "nginx", "-v") }

func nodeVersion() string { return version("v", "node", "--version") }

// share returns the cumulative share of the CPU profile name that fn
// (a substring of the function's name) took, e.g. "36.70%"; "0%" when
// it is not among the profile's top nodes, "?" without the profile.
func (e *env) share(name, fn string) string {
	lines, ok := e.profiles[name]
	if !ok {
		return "?"
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 6 && strings.Contains(f[5], fn) {
			return f[4]
		}
	}
	return "0%"
}
