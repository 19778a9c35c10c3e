package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/slurm"
)

// TestImageCheckAnswers: the bridge asks det-launcher check-image, as the
// job's user, and maps its verdict to the submit's answer.
func TestImageCheckAnswers(t *testing.T) {
	timedOut := &slurm.CommandError{Cmd: "det-launcher", Err: fmt.Errorf("%w (signal: killed)", context.DeadlineExceeded)}
	cases := []struct {
		name string
		out  string
		err  error
		code int
		want string
	}{
		{"sif", `{"type":"sif"}`, nil, http.StatusOK, ""},
		{"sandbox", `{"type":"sandbox"}` + "\n", nil, http.StatusOK, ""},
		{"fifo", `{"problem":"not-file","detail":"a named pipe, not a file or folder"}`, nil, http.StatusBadRequest,
			"environment.image: /images/site.sif: not a usable image (a named pipe, not a file or folder)"},
		{"unreadable", `{"problem":"unreadable","detail":"the job's user (uid 2002) may not read it"}`, nil, http.StatusBadRequest,
			"environment.image: /images/site.sif: not a usable image (the job's user (uid 2002) may not read it)"},
		{"format", `{"problem":"format","detail":"not a SIF, squashfs or sandbox folder"}`, nil, http.StatusBadRequest,
			"environment.image: /images/site.sif is not a SIF, squashfs or sandbox folder"},
		{"an unknown type", `{"type":"ext3"}`, nil, http.StatusBadRequest, "is not a SIF, squashfs or sandbox folder"},
		{"launcher timeout", `{"problem":"timeout","detail":"reading it took longer than 8s"}`, nil, http.StatusBadRequest,
			"not a usable image (reading it took longer than 8s)"},
		{"command timeout", "", timedOut, http.StatusBadRequest, "not a usable image (reading it took longer than 10s)"},
		{"no launcher", "", &slurm.CommandError{Cmd: "det-launcher", Err: errors.New("no such file")}, http.StatusInternalServerError, ""},
		{"garbage", "Usage: ...", nil, http.StatusInternalServerError, ""},
	}
	h := newHarness(t)
	h.srv.cfg.ContainerRuntime.Type = "apptainer"
	count := func() int {
		var list api.GetNotebooksResponse
		h.do("GET", "/api/v1/notebooks", nil, &list, http.StatusOK)
		return len(list.Notebooks)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := count()
			r := &slurm.StubRunner{Stubs: []slurm.Stub{{Name: "/opt/det/det-launcher", Prefix: []string{"check-image", "/images/site.sif"}, Out: c.out, Err: c.err}}}
			h.srv.imageRunner = r
			w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{Config: map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu"}}}, nil)
			var e api.Error
			_ = json.Unmarshal(w.Body.Bytes(), &e)
			if w.Code != c.code || !strings.Contains(e.Message, c.want) {
				t.Fatalf("%d %s, want %d %q", w.Code, w.Body, c.code, c.want)
			}
			if u := r.Unused(); len(u) > 0 {
				t.Fatalf("the image was not checked: %v", u)
			}
			wantUser := ""
			if os.Geteuid() == 0 {
				wantUser = "jobuser"
			}
			if call := r.Calls[0]; call.User != wantUser || slices.ContainsFunc(call.Env, func(e string) bool { return strings.HasPrefix(e, "DET_") }) {
				t.Fatalf("check ran as %q with %q, want as %q", call.User, call.Env, wantUser)
			}
			if n := count(); c.code != http.StatusOK && n != before {
				t.Fatalf("a refused image left a notebook: %d before, %d after", before, n)
			}
		})
	}
}
