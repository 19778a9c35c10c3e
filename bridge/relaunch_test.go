package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/taskconfig"
)

// ended starts a notebook with cfg and one context file, and kills it.
func (h *harness) ended(cfg map[string]any) (api.Notebook, json.RawMessage) {
	h.t.Helper()
	files := []api.File{{Path: "data.txt", Type: api.FileTypeRegular, Content: "aGVsbG8=", Mode: 0o100644}}
	var resp api.LaunchNotebookResponse
	h.do("POST", "/api/v1/notebooks", api.LaunchRequest{Config: cfg, Files: files}, &resp, http.StatusOK)
	nb := resp.Notebook
	h.do("POST", "/api/v1/notebooks/"+nb.ID+"/kill", nil, nil, http.StatusOK)
	h.srv.reconcile(context.Background())
	var got api.GetNotebookResponse
	h.do("GET", "/api/v1/notebooks/"+nb.ID, nil, &got, http.StatusOK)
	if got.Notebook.State != api.StateTerminated {
		h.t.Fatalf("not ended: %+v", got.Notebook)
	}
	return got.Notebook, got.Config
}

func (h *harness) relaunch(id string, want int) (api.RelaunchNotebookResponse, string) {
	h.t.Helper()
	w := h.req("POST", "/api/v1/notebooks/"+id+"/relaunch", nil, nil)
	if w.Code != want {
		h.t.Fatalf("relaunch %s: %d %s, want %d", id, w.Code, w.Body, want)
	}
	var out api.RelaunchNotebookResponse
	if w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			h.t.Fatal(err)
		}
	}
	return out, errorOf(w.Body.Bytes())
}

// TestRelaunch: an ended notebook's relaunch is a new notebook with the
// same config and context files that names the one it replaces; a live
// one, another user's, or an admin's relaunch of another's is refused.
func TestRelaunch(t *testing.T) {
	h := newHarness(t)
	h.numberedJobs()
	live := h.start(map[string]any{"resources": map[string]any{"slots": 0}})
	if _, msg := h.relaunch(live.ID, http.StatusConflict); !strings.Contains(msg, "only an ended one") {
		t.Errorf("live: %q", msg)
	}
	old, oldCfg := h.ended(map[string]any{"resources": map[string]any{"slots": 0}, "idle_timeout": "1h"})
	out, _ := h.relaunch(old.ID[:8], http.StatusOK)
	nb := out.Notebook
	if nb.ID == old.ID || nb.Replaces != old.ID || out.Replaces != old.ID || nb.State != api.StateQueued || nb.Description != old.Description ||
		len(out.Warnings) != 0 || out.Warnings == nil {
		t.Fatalf("relaunched %+v (warnings %v)", nb, out.Warnings)
	}
	var newCfg api.GetNotebookResponse
	h.do("GET", "/api/v1/notebooks/"+nb.ID, nil, &newCfg, http.StatusOK)
	if !sameJSON(t, oldCfg, newCfg.Config) {
		t.Errorf("configs differ:\n%s\n%s", oldCfg, newCfg.Config)
	}
	oldTask, _ := h.srv.store.GetTask(context.Background(), old.ID)
	newTask, _ := h.srv.store.GetTask(context.Background(), nb.ID)
	a, _ := os.ReadFile(filepath.Join(oldTask.JobDir, "context.tar.gz"))
	b, err := os.ReadFile(filepath.Join(newTask.JobDir, "context.tar.gz"))
	if err != nil || len(a) == 0 || !bytes.Equal(a, b) || !newTask.HasContext {
		t.Fatalf("the context was not carried over: %v", err)
	}
	if ev := h.eventsOf(old.ID); !strings.Contains(ev, "relaunched by determined as "+nb.ID) {
		t.Errorf("old events:\n%s", ev)
	}
	if ev := h.eventsOf(nb.ID); !strings.Contains(ev, "relaunch of notebook "+old.ID+", with its config and pool and its context files") {
		t.Errorf("new events:\n%s", ev)
	}

	if err := os.Remove(filepath.Join(oldTask.JobDir, "context.tar.gz")); err != nil {
		t.Fatal(err)
	}
	out, _ = h.relaunch(old.ID, http.StatusOK)
	if len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], "are gone") {
		t.Errorf("context gone: warnings %v", out.Warnings)
	}

	if _, err := h.srv.store.CreateUser(context.Background(), "bob", store.Plain("pw"), false); err != nil {
		t.Fatal(err)
	}
	h.as("bob", "pw").relaunch(old.ID, http.StatusForbidden)
	if _, msg := h.adminClient().relaunch(old.ID, http.StatusForbidden); !strings.Contains(msg, "only its owner") {
		t.Errorf("admin: %q", msg)
	}
}

func sameJSON(t *testing.T, a, b json.RawMessage) bool {
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// TestWithoutDefaultBinds: the defaults' bind mounts, at the front of a
// stored list, are taken out before it is merged under them again.
func TestWithoutDefaultBinds(t *testing.T) {
	defaults := []taskconfig.BindMount{{HostPath: "/site", ContainerPath: "/site"}}
	stored := []any{
		map[string]any{"host_path": "/site", "container_path": "/site", "read_only": false},
		map[string]any{"host_path": "/mine", "container_path": "/data", "read_only": true},
	}
	got := withoutDefaultBinds(stored, defaults).([]any)
	if len(got) != 1 || got[0].(map[string]any)["host_path"] != "/mine" {
		t.Fatalf("%v", got)
	}
	other := []any{map[string]any{"host_path": "/mine", "container_path": "/data"}}
	if got := withoutDefaultBinds(other, defaults).([]any); len(got) != 1 {
		t.Fatalf("a list without the defaults changed: %v", got)
	}
}
