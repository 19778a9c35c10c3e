package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/det-slurm/bridge/api"
)

// The dev cluster's metrics address (metrics_listen in
// site-configs/devcluster.yaml) and its Prometheus (devcluster/prometheus.sh).
var (
	metricsURL    = envOr("DET_METRICS_URL", "http://127.0.0.1:9108/metrics")
	prometheusURL = envOr("DET_PROMETHEUS_URL", "http://127.0.0.1:9190")
)

// These tests are not parallel: the gauges they read count every task of
// the cluster, so no other test may run notebooks meanwhile.

func TestMetricsInPrometheus(t *testing.T) {
	c := cluster(t)
	body := scrape(t)
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	const q = `sum(det_bridge_tasks{kind="notebook",pool="cpu",state="RUNNING"})`
	n0 := steadyQuery(t, q) // what earlier tests ran has settled
	nb := start(t, c, map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu"}})
	waitState(t, c, nb.ID, api.StateRunning, startWithin)
	waitQuery(t, q, n0+1, 30*time.Second)
	if _, err := c.KillNotebook(ctxT(t, 30*time.Second), nb.ID); err != nil {
		t.Fatal(err)
	}
	waitQuery(t, q, n0, 30*time.Second)
	if v := promQuery(t, `sum(det_bridge_cancellations_total{reason="user"})`); v < 1 {
		t.Errorf("user cancellations in Prometheus = %v after a kill", v)
	}
}

func TestMetricsMainPortAdminOnly(t *testing.T) {
	c := cluster(t)
	get := func(token string) int {
		req, _ := http.NewRequestWithContext(ctxT(t, 10*time.Second), http.MethodGet, master+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without a token: %d", code)
	}
	if code := get(c.Token); code != http.StatusForbidden {
		t.Errorf("/metrics as a normal user: %d", code)
	}
	if code := get(adminClient(t).Token); code != http.StatusOK {
		t.Errorf("/metrics as admin: %d", code)
	}
}

// A GPU notebook's GPU counts as held idle once its kernel has been idle
// for half the idle timeout, not while a cell runs; its idle cancellation
// adds its GPUs times its idle time to the GPU-seconds given back.
func TestMetricsIdleGPUs(t *testing.T) {
	c := cluster(t)
	const timeout = 20 * time.Second
	idleGPUs := `det_bridge_gpus_idle{pool="gpu"}`
	waitMetric(t, idleGPUs, 0, time.Minute) // no GPU notebook of an earlier test is left idle
	nb := start(t, c, map[string]any{"resources": map[string]any{"slots": 1, "resource_pool": "gpu"},
		"idle_timeout": "20s", "notebook_idle_type": "activity"})
	waitState(t, c, nb.ID, api.StateRunning, startWithin)
	cancels0 := metric(t, `det_bridge_idle_cancellations_total{pool="gpu"}`)
	back0 := metric(t, `det_bridge_idle_gpu_seconds_returned_total{pool="gpu"}`)

	k := openKernel(t, c, nb.ID)
	k.waitBusy(k.send("import time; time.sleep(18)"))
	if v := metric(t, `det_bridge_gpus_allocated{pool="gpu"}`); v != 1 {
		t.Errorf("GPUs allocated in pool gpu = %v; want 1", v)
	}
	cellEnds := time.Now().Add(18 * time.Second)
	for time.Now().Before(cellEnds.Add(-time.Second)) {
		if v := metric(t, idleGPUs); v != 0 {
			t.Fatalf("a cell is running, yet %s = %v", idleGPUs, v)
		}
		time.Sleep(time.Second)
	}
	k.conn.Close()
	// Held idle from half the timeout after the cell, until the bridge
	// cancels it at the timeout.
	deadline := time.Now().Add(timeout)
	for metric(t, idleGPUs) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%s never became 1 after the cell ended", idleGPUs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// The launcher may have last seen the kernel busy one heartbeat (2 s)
	// before the cell ended.
	if since := time.Since(cellEnds); since < timeout/2-3*time.Second {
		t.Errorf("held idle %s after the cell ended; want no sooner than half the timeout", since.Round(time.Second))
	}
	waitCancelled(t, c, nb.ID, time.Now(), timeout+15*time.Second)
	if d := metric(t, `det_bridge_idle_cancellations_total{pool="gpu"}`) - cancels0; d != 1 {
		t.Errorf("idle cancellations in pool gpu rose by %v; want 1", d)
	}
	back := metric(t, `det_bridge_idle_gpu_seconds_returned_total{pool="gpu"}`) - back0
	if back < timeout.Seconds() || back > timeout.Seconds()+15 {
		t.Errorf("GPU-seconds given back rose by %.1f; want 1 GPU x its idle time (%s to %s)", back, timeout, timeout+15*time.Second)
	}
	waitMetric(t, idleGPUs, 0, 30*time.Second)
}

// scrape reads the bridge's metrics from metrics_listen.
func scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(metricsURL)
	if err != nil {
		t.Fatalf("scrape %s: %v", metricsURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %d %v", metricsURL, resp.StatusCode, err)
	}
	return string(b)
}

// metric is the value of one series (name{labels} as the text format
// prints it) in the bridge's metrics, 0 when it is absent.
func metric(t *testing.T, series string) float64 {
	t.Helper()
	name, _, _ := strings.Cut(series, "{")
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(scrape(t)))
	if err != nil {
		t.Fatalf("parse the metrics: %v", err)
	}
	f := fams[name]
	if f == nil {
		return 0
	}
	for _, m := range f.GetMetric() {
		var labels []string
		for _, l := range m.GetLabel() {
			labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
		}
		s := name
		if len(labels) > 0 {
			s += "{" + strings.Join(labels, ",") + "}"
		}
		if s != series {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func waitMetric(t *testing.T, series string, want float64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		v := metric(t, series)
		if v == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v after %s; want %v", series, v, within, want)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// promQuery asks Prometheus' HTTP API for the value of an instant query
// (0 for an empty result).
func promQuery(t *testing.T, q string) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	query, err := url.JoinPath(prometheusURL, "api/v1/query") // Prometheus' own API, not the bridge's
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, query+"?query="+url.QueryEscape(q), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("query Prometheus at %s: %v", prometheusURL, err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("Prometheus query %s: %s %v %s", q, resp.Status, err, r.Error)
	}
	if len(r.Data.Result) == 0 {
		return 0
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("Prometheus query %s: value %q", q, s)
	}
	return v
}

// steadyQuery waits until a query's value has stayed the same for three
// scrapes (6 s) and returns it.
func steadyQuery(t *testing.T, q string) float64 {
	t.Helper()
	last, same := promQuery(t, q), 0
	for deadline := time.Now().Add(time.Minute); same < 3; time.Sleep(2 * time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus' answer to %s did not settle within a minute", q)
		}
		v := promQuery(t, q)
		if v == last {
			same++
		} else {
			last, same = v, 0
		}
	}
	return last
}

func waitQuery(t *testing.T, q string, want float64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		v := promQuery(t, q)
		if v == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus answers %s = %v after %s; want %v", q, v, within, want)
		}
		time.Sleep(time.Second)
	}
}
