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
	"strings"
	"time"

	"github.com/det-slurm/bridge/bench/internal/report"
	"github.com/det-slurm/bridge/client"
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
	nowURL := "http://" + br.addr + client.Path("notebooks")
	size, err := listOnce(ctx, nowURL, br.token) // warm-up
	if err != nil {
		return err
	}
	e.listKiB = size >> 10
	var api []time.Duration
	for i := 0; i < e.plan.apiReps; i++ {
		t := time.Now()
		if _, err := listOnce(ctx, nowURL, br.token); err != nil {
			return err
		}
		api = append(api, time.Since(t))
	}
	sortDurations(api)
	cli, err := e.timeCLIList(ctx, "http://"+br.addr, br.token)
	if err != nil {
		return err
	}
	e.logf("GET /api/v1/notebooks with %d tasks: median %s (%d KiB); det notebook list: median %s",
		n, api[len(api)/2], size>>10, cli[len(cli)/2])
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
			"(read to the end, after one warm-up) and %d runs of bin/det with the user's token. The CLI figure includes starting the process and "+
			"printing the table.", n, len(api), len(cli))},
	})
	top, err := e.cpuProfile(ctx, br.pprof, "bridge-list", func() error {
		end := time.Now().Add(e.plan.profile + time.Second)
		for time.Now().Before(end) {
			if _, err := listOnce(ctx, nowURL, br.token); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.finding(fmt.Sprintf("### CPU profile: GET /api/v1/notebooks with %d tasks, one request at a time\n\n```\n%s\n```", n, joinLines(top[:min(len(top), 26)])))
	return nil
}

// timeCLIList runs `det notebook list` against master with token.
func (e *env) timeCLIList(ctx context.Context, master, token string) ([]time.Duration, error) {
	det := filepath.Join(e.opts.repo, "bin", "det")
	home := filepath.Join(e.work, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	var out []time.Duration
	for i := 0; i < max(1, e.plan.apiReps/2); i++ {
		cmd := exec.CommandContext(ctx, det, "notebook", "list")
		cmd.Env = append(os.Environ(), "HOME="+home, "DET_MASTER="+master, "DET_USER_TOKEN="+token)
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		t := time.Now()
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("det notebook list: %w: %s", err, stderr.String())
		}
		out = append(out, time.Since(t))
	}
	sortDurations(out)
	return out, nil
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

func sortDurations(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
