package suite

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// goStats is what a benchmark bridge's Go runtime holds after a garbage
// collection, read from its pprof server.
type goStats struct {
	goroutines int
	heap       float64 // bytes in heap spans in use (HeapInuse)
	stack      float64 // bytes of goroutine stacks (StackInuse)
}

var pprofClient = &http.Client{Timeout: 30 * time.Second}

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
	g, err := parseGoStats(heap, gor)
	if err != nil {
		return g, fmt.Errorf("the runtime figures of %s: %w", addr, err)
	}
	return g, nil
}

// parseGoStats reads a heap profile and a goroutine profile, both in
// their text form (debug=1).
func parseGoStats(heap, goroutines string) (goStats, error) {
	var g goStats
	sc := bufio.NewScanner(strings.NewReader(heap))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var a, b uint64
		if n, _ := fmt.Sscanf(sc.Text(), "# HeapInuse = %d", &a); n == 1 {
			g.heap = float64(a)
		}
		if n, _ := fmt.Sscanf(sc.Text(), "# Stack = %d / %d", &a, &b); n == 2 {
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
// garbage and return every free page to the system, so that its resident
// memory is what it holds (benchbridge's /debug/free).
func freeMemory(ctx context.Context, addr string) error {
	_, err := pprofGet(ctx, addr, "/debug/free")
	return err
}

func pprofGet(ctx context.Context, addr, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := pprofClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	return string(data), nil
}
