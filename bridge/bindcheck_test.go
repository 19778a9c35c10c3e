package bridge

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/slurm"
)

// TestBindTargetsAsUser: bind mounts' links are followed by the launcher
// run as the job's user, and a path that leads out of the allowed prefixes
// or that the user cannot look up is refused, naming the field.
func TestBindTargetsAsUser(t *testing.T) {
	h := newHarness(t)
	h.srv.cfg.ContainerRuntime.Type = "apptainer" // a runtime that can bind
	h.srv.cfg.AllowedBindPrefixes = []string{"/shared"}
	cfg := map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu"},
		"bind_mounts": []any{map[string]any{"host_path": "/shared/data", "container_path": "/data"}}}
	for _, c := range []struct {
		name, out string
		code      int
		want      string
	}{
		{"inside", `[{"path":"/shared/data","real":"/shared/data"}]`, http.StatusOK, ""},
		{"link out", `[{"path":"/shared/data","real":"/root/secret"}]`, http.StatusBadRequest, "bind_mounts[0].host_path: /shared/data resolves to /root/secret, outside the allowed prefixes"},
		{"hidden", `[{"path":"/shared/data","problem":"does not exist or may not be read by the job's user"}]`, http.StatusBadRequest, "bind_mounts[0].host_path: /shared/data does not exist or may not be read by the job's user"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &slurm.StubRunner{Stubs: []slurm.Stub{
				{Name: "/opt/det/det-launcher", Prefix: []string{"check-image", "/images/site.sif"}, Out: `{"type":"sif"}`},
				{Name: "/opt/det/det-launcher", Prefix: []string{"resolve", "/shared/data"}, Out: c.out}}}
			h.srv.imageRunner = r
			w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{Config: cfg}, nil)
			var e api.Error
			_ = json.Unmarshal(w.Body.Bytes(), &e)
			if w.Code != c.code || !strings.Contains(e.Message, c.want) {
				t.Fatalf("%d %s, want %d %q", w.Code, w.Body, c.code, c.want)
			}
			if u := r.Unused(); len(u) > 0 {
				t.Fatalf("the bind mounts were not looked up: %v", u)
			}
			if want := map[bool]string{true: "jobuser", false: ""}[os.Geteuid() == 0]; r.Calls[len(r.Calls)-1].User != want {
				t.Fatalf("looked up as %q, want %q", r.Calls[len(r.Calls)-1].User, want)
			}
		})
	}
}
