package suite

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/det-slurm/bridge/bench/internal/report"
)

// apiScale lists notebooks from a bridge whose store holds many ended
// tasks: GET /api/v1/notebooks, and `det notebook list` end to end.
func apiScale(ctx context.Context, e *env) error {
	n := e.plan.apiTasks
	t0 := time.Now()
	br, err := e.startBridge(ctx, "bridge-api", "-seed", fmt.Sprint(n))
	if err != nil {
		return err
	}
	e.logf("stored %d tasks in %s", n, time.Since(t0).Round(time.Millisecond))
	master := "http://" + br.addr
	size := 0
	if _, err := listOnce(ctx, master+"/api/v1/notebooks", br.token); err != nil { // warm-up
		return err
	}
	api, err := timeReps(e.plan.apiReps, func() error {
		k, err := listOnce(ctx, master+"/api/v1/notebooks", br.token)
		size = k
		return err
	})
	if err != nil {
		return err
	}
	det := filepath.Join(e.opts.repo, "bin", "det")
	home := filepath.Join(e.work, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	cli, err := timeReps(max(1, e.plan.apiReps/2), func() error {
		cmd := exec.CommandContext(ctx, det, "notebook", "list")
		cmd.Env = append(os.Environ(), "HOME="+home, "DET_MASTER="+master, "DET_USER_TOKEN="+br.token)
		cmd.Stdout = io.Discard
		out, err := cmd.StderrPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		msg, _ := io.ReadAll(out)
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("det notebook list: %w: %s", err, msg)
		}
		return nil
	})
	if err != nil {
		return err
	}
	top, err := e.cpuProfile(ctx, br.pprof, "bridge-list", func() error {
		end := time.Now().Add(e.plan.profile + time.Second)
		for time.Now().Before(end) {
			if _, err := listOnce(ctx, master+"/api/v1/notebooks", br.token); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.finding(fmt.Sprintf("### CPU profile: GET /api/v1/notebooks with %d tasks, one request at a time\n\n```\n%s\n```", n, joinLines(top[:min(len(top), 26)])))
	e.listKiB = size >> 10
	if err := e.tryFastList(ctx, n, api); err != nil {
		return err
	}
	e.logf("GET /api/v1/notebooks with %d tasks: median %s (%d KiB); det notebook list: median %s", n, api[len(api)/2], size>>10, cli[len(cli)/2])
	row := func(key, label string, d []time.Duration) report.Row {
		return report.Row{Key: key, Label: label, Unit: "ms", Kind: report.Plain, Values: map[string]float64{
			"median": ms(d[len(d)/2]), "fastest": ms(d[0]), "slowest": ms(d[len(d)-1])}}
	}
	e.section(report.Section{
		Title: fmt.Sprintf("6. API scale: %d notebooks in the store", n), Columns: []string{"median", "fastest", "slowest"},
		Rows: []report.Row{
			row("api.list.http", fmt.Sprintf("GET /api/v1/notebooks (%d KiB of JSON)", size>>10), api),
			row("api.list.cli", "det notebook list (whole command)", cli),
		},
		Notes: []string{fmt.Sprintf("A real bridge.Server on a fresh SQLite store holding %d ended notebooks of user determined; %d GET requests "+
			"(read to the end) and %d runs of bin/det with the user's token. The CLI figure includes starting the process and printing the table.",
			n, len(api), len(cli))},
	})
	return nil
}

func listOnce(ctx context.Context, url, token string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: HTTP %d: %s", url, resp.StatusCode, data[:min(len(data), 200)])
	}
	return len(data), nil
}

// timeReps runs fn n times and returns the sorted durations.
func timeReps(n int, fn func() error) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t0))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// tryFastList stores the same tasks in a bridge that lists through an
// index and fewer columns, and times the same GET (now = this run's figures).
func (e *env) tryFastList(ctx context.Context, n int, now []time.Duration) error {
	br, err := e.startBridge(ctx, "bridge-api-fast", "-seed", fmt.Sprint(n), "-fast-list")
	if err != nil {
		return err
	}
	defer br.p.Stop()
	url := "http://" + br.addr + "/api/v1/notebooks"
	if _, err := listOnce(ctx, url, br.token); err != nil {
		return err
	}
	fast, err := timeReps(e.plan.apiReps, func() error {
		_, err := listOnce(ctx, url, br.token)
		return err
	})
	if err != nil {
		return err
	}
	e.logf("list with index and fewer columns: median %s (now %s)", fast[len(fast)/2], now[len(now)/2])
	e.beforeAfter(report.Row{Key: "ba.fastlist.median", Label: fmt.Sprintf("list index + fewer columns: GET /api/v1/notebooks, %d tasks, median", n),
		Unit: "ms", Kind: report.Latency, Values: map[string]float64{cNow: ms(now[len(now)/2]), cChange: ms(fast[len(fast)/2])}})
	return nil
}
