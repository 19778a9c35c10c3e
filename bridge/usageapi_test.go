package bridge

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
)

// TestUsageAPI: an admin reads every configured pool's points over the
// hours asked for, in the API's shape, oldest first, lists never null.
func TestUsageAPI(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	now := time.Now().UTC()
	p50, p95 := 12.0, 30.5
	rows := []store.UsageRow{
		{Time: now.Add(-2 * time.Minute), Pool: "gpu", GPUsAllocated: 3, GPUsIdle: 1, QueueWaitP50: &p50, QueueWaitP95: &p95, CancelIdle: 1, CancelUser: 2, CancelAdmin: 3},
		{Time: now.Add(-time.Minute), Pool: "gpu", GPUsAllocated: 4},
		{Time: now.Add(-time.Minute), Pool: "retired", GPUsAllocated: 1},
		{Time: now.Add(-3 * time.Hour), Pool: "gpu", GPUsAllocated: 8},
	}
	if err := h.srv.store.AddUsage(ctx, rows); err != nil {
		t.Fatal(err)
	}
	admin := h.adminClient()

	// Waits may be null; no list may be.
	w := admin.req("GET", "/api/v1/admin/usage", nil, nil)
	var raw map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &raw); w.Code != http.StatusOK || err != nil {
		t.Fatalf("admin: %d %s", w.Code, w.Body)
	}
	fieldKinds(t, "usage", raw, map[string]string{"from": "string", "to": "string", "stepSeconds": "number", "pools": "array"})
	pools := raw["pools"].([]any)
	if len(pools) != 3 {
		t.Fatalf("%d pools, want gpu, cpu and retired: %v", len(pools), pools)
	}
	for _, p := range pools {
		fieldKinds(t, "pool", p.(map[string]any), map[string]string{"pool": "string", "points": "array"})
		for _, pt := range p.(map[string]any)["points"].([]any) {
			noNulls(t, "cancellations", pt.(map[string]any)["cancellations"])
		}
	}
	points := pools[0].(map[string]any)["points"].([]any)
	if len(points) != 3 {
		t.Fatalf("%d points of gpu, want 3", len(points))
	}
	pt := points[1].(map[string]any)
	fieldKinds(t, "point", pt, map[string]string{"time": "string", "gpusAllocated": "number", "gpusIdle": "number",
		"queueWaitP50": "number", "queueWaitP95": "number", "cancellations": "object"})
	fieldKinds(t, "cancellations", pt["cancellations"].(map[string]any), map[string]string{"idle": "number", "user": "number", "admin": "number"})
	for _, v := range []any{raw["from"], raw["to"], pt["time"]} {
		if _, err := time.Parse(time.RFC3339, v.(string)); err != nil || !strings.HasSuffix(v.(string), "Z") {
			t.Errorf("time %v is not RFC 3339 in UTC: %v", v, err)
		}
	}
	if at := pt["time"].(string); !strings.HasSuffix(at, ":00Z") {
		t.Errorf("a point's time %s is not the start of its minute", at)
	}
	if v, ok := points[2].(map[string]any)["queueWaitP50"]; !ok || v != nil {
		t.Errorf("a minute without starts: queueWaitP50 %v (present %v), want null", v, ok)
	}

	var resp api.UsageResponse
	admin.do("GET", "/api/v1/admin/usage?hours=24", nil, &resp, http.StatusOK)
	if resp.StepSeconds != 60 || resp.To.Sub(resp.From) != 24*time.Hour || time.Since(resp.To) > time.Minute {
		t.Errorf("from %s to %s step %d", resp.From, resp.To, resp.StepSeconds)
	}
	names := []string{}
	for _, p := range resp.Pools {
		names = append(names, p.Pool)
	}
	if strings.Join(names, ",") != "gpu,cpu,retired" {
		t.Errorf("pools %v, want the configured ones in order, then the others", names)
	}
	gpu := resp.Pools[0].Points
	if len(gpu) != 3 || gpu[0].GPUsAllocated != 8 || gpu[1].GPUsAllocated != 3 || gpu[2].GPUsAllocated != 4 {
		t.Fatalf("gpu's points: %+v", gpu)
	}
	want := api.UsagePoint{Time: now.Add(-2 * time.Minute).Truncate(time.Minute), GPUsAllocated: 3, GPUsIdle: 1,
		QueueWaitP50: &p50, QueueWaitP95: &p95, Cancellations: api.Cancellations{Idle: 1, User: 2, Admin: 3}}
	if g := gpu[1]; !g.Time.Equal(want.Time) || g.GPUsIdle != 1 || *g.QueueWaitP50 != p50 || *g.QueueWaitP95 != p95 || g.Cancellations != want.Cancellations {
		t.Errorf("gpu's point: %+v, want %+v", g, want)
	}
	if len(resp.Pools[1].Points) != 0 {
		t.Errorf("cpu's points: %+v, want none", resp.Pools[1].Points)
	}

	admin.do("GET", "/api/v1/admin/usage?hours=1", nil, &resp, http.StatusOK)
	if len(resp.Pools[0].Points) != 2 {
		t.Errorf("the last hour: %d points of gpu, want 2", len(resp.Pools[0].Points))
	}
}

// TestUsageAPIRefusals: a normal user gets 403 in the API's error shape,
// as does a task's token (even an admin's); no login is 401; a bad hours
// is a 400 naming it.
func TestUsageAPIRefusals(t *testing.T) {
	h := newHarness(t)
	w := h.req("GET", "/api/v1/admin/usage", nil, nil)
	var e api.Error
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != http.StatusForbidden || e.Error.Code != http.StatusForbidden || e.Message == "" {
		t.Errorf("normal user: %d %s", w.Code, w.Body)
	}
	anon := *h
	anon.token = ""
	if w := anon.req("GET", "/api/v1/admin/usage", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("no login: %d", w.Code)
	}

	admin := h.adminClient()
	if w := admin.link(admin.userID("admin"), "jobuser"); w.Code != http.StatusOK {
		t.Fatalf("link admin to jobuser: %d %s", w.Code, w.Body)
	}
	nb := admin.start(nil)
	var spec jobspec.Spec
	data, err := os.ReadFile(filepath.Join(h.root, "jobuser", nb.ID, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &spec); err != nil || spec.UserToken == "" {
		t.Fatalf("task.json: %v", err)
	}
	task := *h
	task.token = spec.UserToken
	if w := task.req("GET", "/api/v1/admin/usage", nil, nil); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "DET_USER_TOKEN") {
		t.Errorf("an admin's task token: %d %s", w.Code, w.Body)
	}

	for _, q := range []string{"0", "721", "-1", "1.5", "x", "24h"} {
		w := admin.req("GET", "/api/v1/admin/usage?hours="+q, nil, nil)
		if w.Code != http.StatusBadRequest || !strings.Contains(errorOf(w.Body.Bytes()), "hours") {
			t.Errorf("hours=%s: %d %s", q, w.Code, w.Body)
		}
	}
	for _, q := range []string{"1", "720", ""} {
		if w := admin.req("GET", "/api/v1/admin/usage?hours="+q, nil, nil); w.Code != http.StatusOK {
			t.Errorf("hours=%s: %d %s", q, w.Code, w.Body)
		}
	}
	if w := admin.req("POST", "/api/v1/admin/usage", nil, nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", w.Code)
	}
}

// TestServeSamplesUsageAtOnce: the usage history's first point is
// written as the bridge starts serving, not a minute later.
func TestServeSamplesUsageAtOnce(t *testing.T) {
	h := newHarness(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.Serve(ctx, l, nil) }()
	defer func() {
		cancel()
		<-done
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows, err := h.srv.store.Usage(context.Background(), time.Now().Add(-time.Hour), time.Now())
		if err == nil && len(rows) == len(h.srv.cfg.ResourcePools) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no usage rows for every pool 5 s after Serve: %+v %v", rows, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
