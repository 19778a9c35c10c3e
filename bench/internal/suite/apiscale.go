package suite

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/det-slurm/bridge/bench/internal/report"
	"github.com/det-slurm/bridge/client"
)

// apiScale lists notebooks from a bridge whose store holds many ended
// tasks: GET /api/v1/notebooks, and `det notebook list` end to end.
func apiScale(ctx context.Context, e *env) error {
	n := e.plan.apiTasks
	br, err := e.startBridge(ctx, "bridge-api", "-seed", fmt.Sprint(n))
	if err != nil {
		return err
	}
	url := "http://" + br.addr + client.Path("notebooks")
	size, err := listOnce(ctx, url, br.token) // warm-up
	if err != nil {
		return err
	}
	var api, cli []time.Duration
	for i := 0; i < e.plan.apiReps; i++ {
		t := time.Now()
		if _, err := listOnce(ctx, url, br.token); err != nil {
			return err
		}
		api = append(api, time.Since(t))
	}
	for i := 0; i < max(1, e.plan.apiReps/2); i++ {
		cmd := e.det(ctx, "http://"+br.addr, br.token, "notebook", "list")
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		t := time.Now()
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("det notebook list: %w: %s", err, stderr.String())
		}
		cli = append(cli, time.Since(t))
	}
	e.section(report.Section{
		Title: fmt.Sprintf("6. API scale: %d notebooks in the store", n), Columns: spreadCols,
		Rows: []report.Row{
			{Key: kListHTTP, Label: fmt.Sprintf("GET /api/v1/notebooks (%d KiB of JSON)", size>>10), Unit: "ms", Kind: report.Plain, Values: spread(api, time.Millisecond)},
			{Key: kListCLI, Label: "det notebook list (whole command)", Unit: "ms", Kind: report.Plain, Values: spread(cli, time.Millisecond)},
		},
		Notes: []string{fmt.Sprintf("A real bridge.Server on a fresh SQLite store holding %d ended notebooks; %d GET requests (read to the end, "+
			"after one warm-up) and %d runs of bin/det, which include starting the process and printing the table.", n, len(api), len(cli))},
	})
	return e.cpuProfile(ctx, br.pprof, "bridge-list", func() error {
		for end := time.Now().Add(e.plan.profile + time.Second); time.Now().Before(end); {
			if _, err := listOnce(ctx, url, br.token); err != nil {
				return err
			}
		}
		return nil
	})
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
