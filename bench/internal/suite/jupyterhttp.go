package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/det-slurm/bridge/bench/internal/cluster"
	"github.com/det-slurm/bridge/bench/internal/load"
	"github.com/det-slurm/bridge/bench/internal/proc"
	"github.com/det-slurm/bridge/bench/internal/report"
	"github.com/det-slurm/bridge/client"
)

// benchNotebook is the file whose /api/contents the Jupyter rows fetch:
// 20 code cells with a little output each.
func benchNotebook() map[string]any {
	cells := make([]map[string]any, 20)
	for i := range cells {
		cells[i] = map[string]any{
			"cell_type": "code", "execution_count": i + 1, "metadata": map[string]any{},
			"source":  fmt.Sprintf("import math\nx%d = [math.sqrt(i) for i in range(%d)]\nprint(len(x%d))", i, 100*i, i),
			"outputs": []any{map[string]any{"output_type": "stream", "name": "stdout", "text": fmt.Sprintf("%d\n", 100*i)}},
		}
	}
	return map[string]any{"nbformat": 4, "nbformat_minor": 5, "metadata": map[string]any{}, "cells": cells}
}

// jupyterHTTP loads the running direct-mode notebook id's
// /api/contents/bench.ipynb through the dev cluster's det-bridge,
// directly (the port its launcher holds; token and port from its job
// folder jobDir), and through nginx and configurable-http-proxy started in
// front of that port.
func jupyterHTTP(ctx context.Context, e *env, c *client.Client, id, jobDir string) error {
	j, err := cluster.FindJupyter(jobDir)
	if err != nil {
		return err
	}
	path := "/proxy/" + id + "/api/contents/bench.ipynb"
	body := map[string]any{"type": "notebook", "format": "json", "content": benchNotebook()}
	if err := c.Do(ctx, http.MethodPut, path, body, nil); err != nil {
		return fmt.Errorf("write bench.ipynb through the proxy: %w", err)
	}
	upstream := fmt.Sprintf("127.0.0.1:%d", j.Port)
	ngAddr, _ := proc.FreePort()
	ng, err := proc.Nginx(filepath.Join(e.work, "nginx-jupyter"), ngAddr, upstream, "token "+j.Token)
	if err != nil {
		return err
	}
	defer ng.Stop()
	chpAddr, _ := proc.FreePort()
	chp, err := proc.CHP(filepath.Join(e.opts.repo, "bench"), filepath.Join(e.work, "nginx-jupyter"), chpAddr, "http://"+upstream, "token "+j.Token)
	if err != nil {
		return err
	}
	defer chp.Stop()
	for _, a := range []string{ngAddr, chpAddr} {
		if err := proc.WaitPort(ctx, a, 15*time.Second); err != nil {
			return err
		}
	}
	bearer := http.Header{"Authorization": {"Bearer " + c.Token}}
	loads := []load.Target{
		{URL: e.opts.master + path, Header: bearer},
		{URL: "http://" + upstream + path, Header: http.Header{"Authorization": {"token " + j.Token}}},
		{URL: "http://" + ngAddr + path, Header: bearer},
		{URL: "http://" + chpAddr + path, Header: bearer},
	}
	size := 0
	for i, l := range loads {
		if size, err = getSize(ctx, l); err != nil {
			return fmt.Errorf("%s path to Jupyter: %w", pathOrder[i], err)
		}
	}
	label := fmt.Sprintf("Jupyter /api/contents (%.1f KiB)", float64(size)/1024)
	rows, err := e.matrix(ctx, kJupyter, label, pathOrder, loads, e.plan.jupyterCs, false, 1, e.plan.jupyterDur)
	if err != nil {
		return err
	}
	e.section(report.Section{
		Title: "1b. Proxy, HTTP: real Jupyter backend", Columns: pathOrder, Compare: true, Rows: rows,
		Notes: []string{"A real JupyterLab in a Slurm job on the dev cluster (pool " + directPool + ", direct proxy mode). bridge = the dev " +
			"cluster's det-bridge; direct = that Jupyter through the port its launcher holds, with its own token; nginx and CHP in front of " +
			"that port, injecting the token. GET of a 20-cell notebook's contents, one wrk run of " + e.plan.jupyterDur.String() + " per cell."},
	})
	return nil
}

// getSize GETs l's JSON answer and returns its size.
func getSize(ctx context.Context, l load.Target) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.URL, nil)
	req.Header = l.Header.Clone()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: HTTP %d", l.URL, resp.StatusCode)
	}
	var v map[string]any
	dec := json.NewDecoder(resp.Body)
	if err := dec.Decode(&v); err != nil {
		return 0, fmt.Errorf("GET %s: %w", l.URL, err)
	}
	return int(dec.InputOffset()), nil
}
