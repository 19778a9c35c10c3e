package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// TestExtend: the duration goes as given and the new limit is printed; a
// refusal's message is shown; --by is required.
func TestExtend(t *testing.T) {
	left := int64(5400)
	f := &fakeClient{
		launched: client.Launched{Task: api.Notebook{ID: "abcd-1", Description: "JupyterLab (calm-otter)", TimeRemainingSeconds: &left}},
		extended: api.Extension{AddedSeconds: 3600, TimeLimitSeconds: 7200, Extensions: 1, MaxExtensions: 3, MaxWalltimeSeconds: 28800},
	}
	con, out, _ := testConsole("")
	if err := runExtend(context.Background(), extendOptions{kind: client.NotebookKind, id: "abcd", by: "1h"}, f, con); err != nil || !f.called("Extend notebook abcd 1h") ||
		out.String() != "Extended notebook abcd-1 (JupyterLab (calm-otter)) by 1h: its time limit is now 2h, 1h30m0s left (extension 1 of 3)\n" {
		t.Errorf("%v %v %q", err, f.calls, out.String())
	}
	f.errs = map[string]error{"Extend": &client.APIError{Status: 400, Message: "max_walltime: 9h more would make the time limit 10:00:00, above pool cpu's max_walltime of 8:00:00"}}
	if err := runExtend(context.Background(), extendOptions{kind: client.NotebookKind, id: "abcd", by: "9h"}, f, con); err == nil || !strings.HasPrefix(err.Error(), "extend abcd: max_walltime: 9h more") {
		t.Errorf("a refusal: %v", err)
	}
	detEnv(t, "alice")
	f = &fakeClient{}
	if _, errOut, code := runFake(t, f, "", "shell", "extend", "abcd"); code != 1 || !strings.Contains(errOut, `"by" not set`) || len(f.calls) != 0 {
		t.Errorf("without --by: exit %d, calls %v: %s", code, f.calls, errOut)
	}
}

// TestRelaunch: the relaunch names the task it replaces, shows its
// warnings and waits for the new one to run; -d prints the new id.
func TestRelaunch(t *testing.T) {
	defer func(d time.Duration) { pollInterval = d }(pollInterval)
	pollInterval = 0
	nb := api.Notebook{ID: "new-1", Description: "JupyterLab (calm-otter)", State: api.StateQueued, ServiceAddress: "/proxy/new-1/", Replaces: "abcd-1"}
	f := &fakeClient{
		relaunch: client.Relaunched{Task: nb, Warnings: []string{"the context files of abcd-1 are gone"}, Replaces: "abcd-1"},
		launched: client.Launched{Task: nb}, states: []string{api.StateRunning},
	}
	con, out, errOut := testConsole("")
	if err := runRelaunch(context.Background(), relaunchOptions{kind: client.NotebookKind, id: "abcd", noBrowser: true}, f, con); err != nil {
		t.Fatal(err)
	}
	if want := "Scheduling notebook JupyterLab (calm-otter) (id: new-1), which replaces abcd-1...\nQUEUED ...\nRUNNING ...\nJupyter Notebook is running at: http://bridge.example/proxy/new-1/\n"; out.String() != want || !f.called("Relaunch notebook abcd") {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
	if errOut.String() != "Warning: the context files of abcd-1 are gone\n" {
		t.Errorf("warned %q", errOut.String())
	}
	con, out, _ = testConsole("")
	if err := runRelaunch(context.Background(), relaunchOptions{kind: client.NotebookKind, id: "abcd", detach: true}, f, con); err != nil || out.String() != "new-1\n" {
		t.Errorf("-d: %v %q", err, out.String())
	}
	f.errs = map[string]error{"Relaunch": &client.APIError{Status: 409, Message: "abcd-1 is still running"}}
	if err := runRelaunch(context.Background(), relaunchOptions{kind: client.NotebookKind, id: "abcd"}, f, con); err == nil || err.Error() != "relaunch abcd: abcd-1 is still running" {
		t.Errorf("a refusal: %v", err)
	}
}

func TestMinutes(t *testing.T) {
	for sec, want := range map[int64]string{60: "1m", 3600: "1h", 5400: "1h30m", 90000: "25h"} {
		if got := minutes(sec); got != want {
			t.Errorf("minutes(%d) = %q, want %q", sec, got, want)
		}
	}
}
