package bridge

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/runtimes"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/taskconfig"
)

// TestRuntimeRefusesWhatItCannotDo: on the harness's runtime none, a
// config with bind mounts or an image of the user's is refused with a 400
// naming the field, before anything is queued; the preview says the same.
func TestRuntimeRefusesWhatItCannotDo(t *testing.T) {
	h := newHarness(t)
	h.srv.cfg.AllowedBindPrefixes = []string{"/shared"}
	cpu := map[string]any{"slots": 0, "resource_pool": "cpu"}
	cases := []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"bind", map[string]any{"resources": cpu, "bind_mounts": []any{map[string]any{"host_path": "/shared/data", "container_path": "/data"}}},
			"bind_mounts[0]: this site runs notebooks without a container (container runtime none), so /shared/data cannot be bound at /data"},
		{"image", map[string]any{"resources": cpu, "environment": map[string]any{"image": "/images/mine.sif"}},
			"environment.image: this site runs notebooks without a container (container runtime none), so no image is used"},
		{"cuda image", map[string]any{"resources": cpu, "environment": map[string]any{"image": map[string]any{"cuda": "/images/cuda.sif"}}},
			"environment.image:"},
	}
	for _, c := range cases {
		for _, preview := range []bool{false, true} {
			w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{Config: c.cfg, Preview: preview}, nil)
			var e api.Error
			_ = json.Unmarshal(w.Body.Bytes(), &e)
			if w.Code != http.StatusBadRequest || !strings.HasPrefix(e.Message, c.want) {
				t.Errorf("%s (preview %v): %d %s, want 400 %q", c.name, preview, w.Code, w.Body, c.want)
			}
		}
	}
	var list api.GetNotebooksResponse
	h.do("GET", "/api/v1/notebooks", nil, &list, http.StatusOK)
	if len(list.Notebooks) != 0 {
		t.Fatalf("refused configs left %d notebooks", len(list.Notebooks))
	}
	// The site's default image is no reason to refuse: it is not used.
	w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{Config: map[string]any{"resources": cpu}}, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("a plain notebook: %d %s", w.Code, w.Body)
	}
}

// TestCheckRuntimeByCapabilities: the rules follow the capabilities, not
// the runtime's name.
func TestCheckRuntimeByCapabilities(t *testing.T) {
	one, none := 1, 0
	bind := []taskconfig.BindMount{{HostPath: "/a", ContainerPath: "/b"}}
	img := map[string]any{"environment": map[string]any{"image": "/i.sif"}}
	for _, c := range []struct {
		rt    string
		cfg   taskconfig.Config
		user  map[string]any
		field string // "" = accepted
	}{
		{runtimes.Apptainer, taskconfig.Config{BindMounts: bind, Resources: taskconfig.Resources{Slots: &one}}, img, ""},
		{runtimes.Singularity, taskconfig.Config{BindMounts: bind}, img, ""},
		{runtimes.None, taskconfig.Config{Resources: taskconfig.Resources{Slots: &one}}, nil, ""},
		{runtimes.None, taskconfig.Config{BindMounts: bind}, nil, "bind_mounts[0]"},
		{runtimes.None, taskconfig.Config{}, img, "environment.image"},
		{runtimes.None, taskconfig.Config{}, map[string]any{"environment": map[string]any{"image": ""}}, ""},
		// A name the table does not know has no capabilities at all.
		{"podman", taskconfig.Config{Resources: taskconfig.Resources{Slots: &one}}, nil, "resources.slots"},
		{"podman", taskconfig.Config{Resources: taskconfig.Resources{Slots: &none}}, nil, ""},
	} {
		err := checkRuntime(siteconfig.Runtime{Type: c.rt}, &c.cfg, c.user)
		ue, _ := err.(*userError)
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s %+v: refused: %v", c.rt, c.cfg, err)
		case c.field != "" && (ue == nil || ue.code != http.StatusBadRequest || !strings.HasPrefix(ue.msg, c.field+": ")):
			t.Errorf("%s %+v: %v, want a 400 on %s", c.rt, c.cfg, err, c.field)
		}
	}
}
