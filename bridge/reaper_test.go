package bridge

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// goneStore is a store in which every task has just been deleted: updates
// fail with a wrapped store.ErrNotFound.
type goneStore struct{ Store }

func (goneStore) UpdateTask(context.Context, string, store.Update, string) error {
	return fmt.Errorf("update task: %w", store.ErrNotFound)
}

// TestReapTaskGone: an idle notebook whose task is gone by the time the
// idle check cancels it is not an error; the store's wrapped ErrNotFound
// is recognised with errors.Is.
func TestReapTaskGone(t *testing.T) {
	h := newHarness(t)
	nb := h.start(map[string]any{"idle_timeout": "10m"})
	ctx := context.Background()
	if err := h.srv.store.UpdateTask(ctx, nb.ID, store.Update{State: api.StateRunning}, "running"); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	h.srv.log = slog.New(slog.NewTextHandler(&logs, nil))
	h.srv.store = goneStore{Store: h.srv.store}
	h.srv.reap(ctx, time.Now().Add(24*time.Hour))
	if !strings.Contains(logs.String(), "notebook is idle") {
		t.Fatalf("the idle check did not try to cancel the notebook:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("a task already gone was logged as an error:\n%s", logs.String())
	}
}
