package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/slurm"
)

// extendable starts a running CPU notebook whose job has a 10-minute
// limit, in pool cpu with max_walltime 20 minutes and 2 extensions.
func (h *harness) extendable() api.Notebook {
	h.t.Helper()
	p, _ := h.srv.cfg.Pool("cpu")
	p.MaxWalltime, p.MaxWalltimeLimit, p.MaxExtensions = "20", 20*time.Minute, 2
	nb := h.start(map[string]any{"resources": map[string]any{"slots": 0}})
	h.running(nb.ID, "cpu1")
	h.slurm.limits["101"] = slurm.Limit{State: "RUNNING", Limit: 10 * time.Minute, Used: time.Minute}
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "RUNNING", Nodes: []string{"cpu1"}, TimeLeft: 9 * time.Minute}
	h.srv.reconcile(context.Background())
	return nb
}

func (h *harness) extend(id, by string, want int) (api.ExtendNotebookResponse, string) {
	h.t.Helper()
	w := h.req("POST", "/api/v1/notebooks/"+id+"/extend", api.ExtendRequest{By: by}, nil)
	if w.Code != want {
		h.t.Fatalf("extend %s by %q: %d %s, want %d", id, by, w.Code, w.Body, want)
	}
	var out api.ExtendNotebookResponse
	if w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			h.t.Fatal(err)
		}
	}
	return out, errorOf(w.Body.Bytes())
}

// TestExtendWithinPolicy: an extension raises the job's limit in Slurm
// and the time remaining the API shows; past max_walltime or
// max_extensions it is refused, naming the rule, and nothing changes.
func TestExtendWithinPolicy(t *testing.T) {
	h := newHarness(t)
	nb := h.extendable()
	if n := h.get(nb.ID); n.TimeRemainingSeconds == nil || *n.TimeRemainingSeconds != 540 {
		t.Fatalf("before: %+v", n)
	}
	out, _ := h.extend(nb.ID[:8], "5m", http.StatusOK)
	x := out.Extension
	if x.AddedSeconds != 300 || x.TimeLimitSeconds != 900 || x.Extensions != 1 || x.MaxExtensions != 2 || x.MaxWalltimeSeconds != 1200 {
		t.Fatalf("extension %+v", x)
	}
	if out.Notebook.TimeRemainingSeconds == nil || *out.Notebook.TimeRemainingSeconds != 840 || out.Notebook.Extensions != 1 {
		t.Fatalf("notebook after the extension: %+v", out.Notebook)
	}
	if n := h.get(nb.ID); *n.TimeRemainingSeconds != 840 {
		t.Fatalf("the API's time remaining did not grow: %+v", n)
	}
	_, msg := h.extend(nb.ID, "10m", http.StatusBadRequest)
	if !strings.HasPrefix(msg, "max_walltime: ") || !strings.Contains(msg, "at most 5m more") {
		t.Errorf("past max_walltime: %q", msg)
	}
	if got := h.slurm.limits["101"].Limit; got != 15*time.Minute || len(h.slurm.sets) != 1 {
		t.Fatalf("a refused extension changed the limit: %s, sets %v", got, h.slurm.sets)
	}
	h.extend(nb.ID, "61s", http.StatusOK) // rounded up to 2 minutes
	if got := h.slurm.limits["101"].Limit; got != 17*time.Minute {
		t.Fatalf("limit %s, want 17m", got)
	}
	_, msg = h.extend(nb.ID, "1m", http.StatusBadRequest)
	if !strings.HasPrefix(msg, "max_extensions: ") || !strings.Contains(msg, "2 times") {
		t.Errorf("past max_extensions: %q", msg)
	}
	if n := h.get(nb.ID); n.Extensions != 2 || len(h.slurm.sets) != 2 {
		t.Fatalf("a refused extension counted: %+v %v", n, h.slurm.sets)
	}
	if ev := h.eventsOf(nb.ID); !strings.Contains(ev, "time limit raised by 5m, from 0:10:00 to 0:15:00, at the request of determined (extension 1 of 2)") {
		t.Errorf("events:\n%s", ev)
	}
}

// TestExtendRefusals: bad durations, pools without a policy, notebooks
// that do not run or have no limit, other users' notebooks, and Slurm's
// own refusal; none changes anything.
func TestExtendRefusals(t *testing.T) {
	h := newHarness(t)
	nb := h.extendable()
	for by, want := range map[string]string{"": "by: required", "soon": `by: "soon" is not a duration`, "-5m": "adds no time", "9000h": "more than a year"} {
		if _, msg := h.extend(nb.ID, by, http.StatusBadRequest); !strings.Contains(msg, want) {
			t.Errorf("by %q: %q, want %q", by, msg, want)
		}
	}
	if _, err := h.srv.store.CreateUser(context.Background(), "bob", store.Plain("pw"), false); err != nil {
		t.Fatal(err)
	}
	bob := h.as("bob", "pw")
	bob.extend(nb.ID, "5m", http.StatusForbidden)
	bob.extend(nb.ID[:8], "5m", http.StatusNotFound)

	h.slurm.setErr = &slurm.CommandError{Cmd: "scontrol", Stderr: "scontrol: error: Access/permission denied for job 101", Err: errors.New("exit 1")}
	if _, msg := h.extend(nb.ID, "5m", http.StatusBadGateway); !strings.Contains(msg, "permission denied") || !strings.Contains(msg, "operator") {
		t.Errorf("Slurm's refusal: %q", msg)
	}
	h.slurm.setErr = nil
	h.slurm.limits["101"] = slurm.Limit{State: "RUNNING", Limit: -1}
	if _, msg := h.extend(nb.ID, "5m", http.StatusConflict); !strings.Contains(msg, "no time limit") {
		t.Errorf("no limit: %q", msg)
	}
	if n := h.get(nb.ID); n.Extensions != 0 || len(h.slurm.sets) != 0 {
		t.Fatalf("a refusal changed something: %+v %v", n, h.slurm.sets)
	}

	gpu := h.start(nil)
	if _, msg := h.extend(gpu.ID, "5m", http.StatusConflict); !strings.Contains(msg, "is QUEUED") {
		t.Errorf("queued: %q", msg)
	}
	h.running(gpu.ID, "r1-gpu01-ib")
	if _, msg := h.extend(gpu.ID, "5m", http.StatusBadRequest); !strings.Contains(msg, "max_walltime: pool gpu allows no extensions") {
		t.Errorf("pool without a policy: %q", msg)
	}
}

func TestParseExtendBy(t *testing.T) {
	for in, want := range map[string]time.Duration{"1h": time.Hour, "90m": 90 * time.Minute, "30": 30 * time.Minute, "1s": time.Minute, " 2h30m ": 150 * time.Minute} {
		if got, err := parseExtendBy(in); err != nil || got != want {
			t.Errorf("%q: %s %v, want %s", in, got, err, want)
		}
	}
	for d, want := range map[time.Duration]string{45 * time.Minute: "45m", time.Hour: "1h", 90 * time.Minute: "1h30m", 51 * time.Hour: "2d3h", 0: "0m"} {
		if got := minutesText(d); got != want {
			t.Errorf("minutesText(%s) = %q, want %q", d, got, want)
		}
	}
}
