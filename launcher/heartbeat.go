package launcher

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/det-slurm/bridge/jobspec"
)

// jupyterDo sends a request without a body to one of Jupyter's API paths,
// with the token.
func jupyterDo(ctx context.Context, c *http.Client, method, base, token, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "token "+token)
	return c.Do(req)
}

// jupyterGet reads one of Jupyter's API lists with the token.
func jupyterGet(ctx context.Context, c *http.Client, base, token, path string, out any) error {
	resp, err := jupyterDo(ctx, c, http.MethodGet, base, token, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil // e.g. no terminals extension
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

type jupyterKernel struct {
	ID             string    `json:"id"`
	ExecutionState string    `json:"execution_state"`
	Connections    int       `json:"connections"`
	LastActivity   time.Time `json:"last_activity"`
}

type jupyterTerminal struct {
	Name         string    `json:"name"`
	LastActivity time.Time `json:"last_activity"`
}

// Report asks Jupyter at base (http://localhost/proxy/<id>/ through its socket) about
// its kernels, terminals and sessions.
func Report(ctx context.Context, c *http.Client, base, token string, now time.Time) jobspec.JupyterReport {
	return report(ctx, c, base, token, now, nil)
}

// report is Report, with the kernels Jupyter cannot tell about asked by
// probe (when it is not nil).
func report(ctx context.Context, c *http.Client, base, token string, now time.Time, probe *kernelProber) jobspec.JupyterReport {
	var kernels []jupyterKernel
	var terms []jupyterTerminal
	var sessions []json.RawMessage
	rep := jobspec.JupyterReport{ActivityAgeSeconds: -1}
	for _, q := range []struct {
		path string
		out  any
	}{{"api/kernels", &kernels}, {"api/terminals", &terms}, {"api/sessions", &sessions}} {
		if err := jupyterGet(ctx, c, base, token, q.path, q.out); err != nil {
			rep.Error = err.Error()
			return rep
		}
	}
	if probe != nil {
		probe.resolve(ctx, kernels, now)
	}
	var newest time.Time
	for _, k := range kernels {
		rep.Kernels = append(rep.Kernels, jobspec.KernelState{ID: k.ID, ExecutionState: k.ExecutionState, Connections: k.Connections})
		if k.LastActivity.After(newest) {
			newest = k.LastActivity
		}
	}
	for _, t := range terms {
		rep.Terminals = append(rep.Terminals, jobspec.TerminalState{Name: t.Name})
		if t.LastActivity.After(newest) {
			newest = t.LastActivity
		}
	}
	rep.Sessions = len(sessions)
	if !newest.IsZero() {
		rep.ActivityAgeSeconds = max(0, now.Sub(newest).Seconds())
	}
	return rep
}

// heartbeat reports Jupyter's state, read with jc (a client of its Unix
// socket), to the bridge through c every interval until ctx ends. Kernels
// whose state Jupyter does not know are asked through their connection
// files in runtimeDir.
func heartbeat(ctx context.Context, c, jc *http.Client, spec *jobspec.Spec, runtimeDir string, log *slog.Logger) {
	base := jupyterBase(spec)
	probe := newKernelProber(runtimeDir, log)
	defer probe.close()
	beat(ctx, c, spec, log, func() jobspec.JupyterReport { return report(ctx, jc, base, spec.JupyterToken, time.Now(), probe) })
}

// beat sends what report says to the bridge every heartbeat interval
// until ctx ends.
func beat(ctx context.Context, c *http.Client, spec *jobspec.Spec, log *slog.Logger, report func() jobspec.JupyterReport) {
	interval := time.Duration(spec.HeartbeatSeconds) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		rep := report()
		if err := postOnce(ctx, c, spec, "heartbeat", rep); err != nil {
			if !failing {
				log.Warn("heartbeat to the bridge failed; will keep trying", "err", err)
			}
			failing = true
		} else {
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
