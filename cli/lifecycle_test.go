package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/bridge/api"
)

// TestExtendAndRelaunch runs `det notebook extend` and `det notebook
// relaunch` against a stub bridge: the extension's duration goes as
// given and the new limit is printed; a refusal's message is shown; the
// relaunch names the notebook it replaces, shows its warnings and waits
// for it to run.
func TestExtendAndRelaunch(t *testing.T) {
	var by string
	left := int64(5400)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method + " " + r.URL.Path {
		case "POST /api/v1/auth/login":
			_ = json.NewEncoder(w).Encode(api.LoginResponse{Token: "t"})
		case "POST /api/v1/notebooks/abcd/extend":
			var req api.ExtendRequest
			_ = json.NewDecoder(r.Body).Decode(&req)
			by = req.By
			if req.By == "9h" {
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode(api.NewError(http.StatusBadRequest, "max_walltime: 9h more would make the time limit 10:00:00, above pool cpu's max_walltime of 8:00:00"))
				return
			}
			_ = json.NewEncoder(w).Encode(api.ExtendNotebookResponse{
				Notebook:  api.Notebook{ID: "abcd-1", Description: "JupyterLab (calm-otter)", TimeRemainingSeconds: &left},
				Extension: api.Extension{AddedSeconds: 3600, TimeLimitSeconds: 7200, Extensions: 1, MaxExtensions: 3, MaxWalltimeSeconds: 28800},
			})
		case "POST /api/v1/notebooks/abcd/relaunch":
			_ = json.NewEncoder(w).Encode(api.RelaunchNotebookResponse{Notebook: api.Notebook{ID: "new-1", Description: "JupyterLab (calm-otter)",
				State: api.StateRunning, ServiceAddress: "/proxy/new-1/", Replaces: "abcd-1"}, Config: json.RawMessage(`{}`),
				Warnings: []string{"the context files of abcd-1 are gone"}, Replaces: "abcd-1"})
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	t.Setenv("DET_USER", "determined")
	out := runCLI(t, srv.URL, 0, "notebook", "extend", "abcd", "--by", "1h")
	if by != "1h" || !strings.Contains(out, "Extended notebook abcd-1 (JupyterLab (calm-otter)) by 1h: its time limit is now 2h, 1h30m0s left (extension 1 of 3)") {
		t.Errorf("extend printed %q (sent %q)", out, by)
	}
	if out := runCLI(t, srv.URL, 1, "notebook", "extend", "abcd", "--by", "9h"); !strings.Contains(out, "max_walltime: 9h more") {
		t.Errorf("a refused extension printed %q", out)
	}
	runCLI(t, srv.URL, 1, "notebook", "extend", "abcd")
	out = runCLI(t, srv.URL, 0, "notebook", "relaunch", "abcd", "--no-browser")
	for _, want := range []string{"Warning: the context files of abcd-1 are gone", "(id: new-1), which replaces abcd-1", "running at: " + srv.URL + "/proxy/new-1/"} {
		if !strings.Contains(out, want) {
			t.Errorf("relaunch printed %q, want %q", out, want)
		}
	}
	if out := runCLI(t, srv.URL, 0, "notebook", "relaunch", "abcd", "-d"); !strings.HasPrefix(out, "new-1\n") {
		t.Errorf("relaunch -d printed %q", out)
	}
}

func TestMinutes(t *testing.T) {
	for sec, want := range map[int64]string{60: "1m", 3600: "1h", 5400: "1h30m", 90000: "25h"} {
		if got := minutes(sec); got != want {
			t.Errorf("minutes(%d) = %q, want %q", sec, got, want)
		}
	}
}
