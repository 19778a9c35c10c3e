package suite

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

var pprofClient = &http.Client{Timeout: 60 * time.Second}

func pprofGet(ctx context.Context, addr, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := pprofClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return data, nil
}

// cpuProfile records a CPU profile from the pprof server at addr while
// load runs, saves it under the results folder and keeps its top.
func (e *env) cpuProfile(ctx context.Context, addr, name string, load func() error) error {
	secs := max(1, int(e.plan.profile.Seconds()))
	type got struct {
		data []byte
		err  error
	}
	ch := make(chan got, 1)
	go func() {
		time.Sleep(300 * time.Millisecond) // let the load start
		data, err := pprofGet(ctx, addr, fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs))
		ch <- got{data, err}
	}()
	if err := load(); err != nil {
		return err
	}
	g := <-ch
	if g.err != nil {
		return fmt.Errorf("CPU profile: %w", g.err)
	}
	return e.keepProfile(name, g.data)
}

// heapProfile saves the heap profile, after a collection, of the process
// of the pprof server at addr.
func (e *env) heapProfile(ctx context.Context, addr, name string) error {
	data, err := pprofGet(ctx, addr, "/debug/pprof/heap?gc=1")
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return e.keepProfile(name, data)
}

// keepProfile saves a profile under the results folder's profiles/ and
// names it in the results.
func (e *env) keepProfile(name string, data []byte) error {
	dir := filepath.Join(e.opts.out, "profiles")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, e.res.Started.UTC().Format("20060102T150405Z")+"-"+name+".pprof")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	e.logf("profile %s saved to %s", name, path)
	e.res.Profiles = append(e.res.Profiles, filepath.Base(path))
	return nil
}

// goStats is what a benchmark bridge's Go runtime holds after a garbage
// collection, read from its pprof server.
type goStats struct {
	goroutines  int
	heap, stack float64 // bytes in heap spans in use (HeapInuse), of goroutine stacks (StackInuse)
}

// readGoStats collects garbage in the process of the pprof server at
// addr and reads its goroutines, heap and stacks.
func readGoStats(ctx context.Context, addr string) (goStats, error) {
	heap, err := pprofGet(ctx, addr, "/debug/pprof/heap?debug=1&gc=1")
	if err != nil {
		return goStats{}, err
	}
	gor, err := pprofGet(ctx, addr, "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return goStats{}, err
	}
	g, err := parseGoStats(string(heap), string(gor))
	if err != nil {
		return g, fmt.Errorf("the runtime figures of %s: %w", addr, err)
	}
	return g, nil
}

// parseGoStats reads a heap and a goroutine profile in their text form.
func parseGoStats(heap, goroutines string) (goStats, error) {
	var g goStats
	for _, l := range strings.Split(heap, "\n") {
		var a, b uint64
		if n, _ := fmt.Sscanf(l, "# HeapInuse = %d", &a); n == 1 {
			g.heap = float64(a)
		}
		if n, _ := fmt.Sscanf(l, "# Stack = %d / %d", &a, &b); n == 2 {
			g.stack = float64(a)
		}
	}
	if g.heap == 0 || g.stack == 0 {
		return g, fmt.Errorf("no HeapInuse or Stack in the heap profile")
	}
	if _, err := fmt.Sscanf(goroutines, "goroutine profile: total %d", &g.goroutines); err != nil {
		return g, fmt.Errorf("no goroutine count: %w", err)
	}
	return g, nil
}

// freeMemory has the process of the pprof server at addr collect its
// garbage and return every free page to the system (serve's /debug/free).
func freeMemory(ctx context.Context, addr string) error {
	_, err := pprofGet(ctx, addr, "/debug/free")
	return err
}
