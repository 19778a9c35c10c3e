package bridge

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/slurm"
)

// TestReadyNodeLists: the ready callback reads the job's node list as
// squeue prints it, by Slurm's rules (several bracket groups, zero
// padding): a node of the allocation is routed, any other is refused,
// and a list that does not read is answered 503 with the reason.
func TestReadyNodeLists(t *testing.T) {
	cases := []struct {
		list, node string
		want       int
		msg        string
	}{
		{"rack[1-2]-n[01-02]", "rack2-n01", http.StatusNoContent, ""},
		{"a[01-03,07],b5", "a07", http.StatusNoContent, ""},
		{"r1-gpu01-ib,r1-gpu02-ib", "r1-gpu02-ib", http.StatusNoContent, ""},
		{"rack[1-2]-n[01-02]", "rack3-n01", http.StatusForbidden, `node "rack3-n01" is not part of job 101's allocation`},
		{"rack[1-2]-n[01-02]", "rack", http.StatusForbidden, "is not part of"},
		{"gpu[1-2]-ib", "gpu1-ib", http.StatusServiceUnavailable, `cannot confirm the allocation with Slurm: not a Slurm node list "gpu[1-2]-ib"`},
	}
	for i, c := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			h := newHarness(t)
			nb := h.start(nil)
			task, _ := h.srv.store.GetTask(context.Background(), nb.ID)
			rec := "R|101|RUNNING|N/A|UNLIMITED|jobuser|normal|" + c.list + "|None\n"
			jobs, stray := slurm.ParseSqueue([]byte(rec), "R")
			if stray != 0 || jobs["101"].Err != nil {
				t.Fatalf("squeue record: %+v, stray %d", jobs, stray)
			}
			h.slurm.jobs["101"] = jobs["101"]
			h.token = ""
			h.srv.prove = func(context.Context, string, int, string, string) error { return nil }
			w := h.req("POST", "/api/v1/tasks/"+nb.ID+"/ready", jobspec.ReadyRequest{Node: c.node, Port: 4000}, map[string]string{jobspec.SecretHeader: task.Secret})
			var e api.Error
			_ = json.Unmarshal(w.Body.Bytes(), &e)
			if w.Code != c.want || !strings.Contains(e.Message, c.msg) {
				t.Fatalf("ready from %s in %s: %d %s, want %d %q", c.node, c.list, w.Code, w.Body, c.want, c.msg)
			}
			r, _ := h.srv.Routes().Get(nb.ID)
			if routed := r.Target != nil; routed != (c.want == http.StatusNoContent) {
				t.Fatalf("route %+v after %d", r, w.Code)
			}
		})
	}
}
