package siteconfig

import (
	"strings"
	"testing"
)

// TestRuntimeRules: the runtime must be one the table knows; a runtime
// that cannot bind refuses every setting that binds; with one that can,
// every folder the site binds is one path to the bind parser.
func TestRuntimeRules(t *testing.T) {
	none := good + "container_runtime: {type: none}\n"
	cases := []struct{ doc, want string }{
		{good + "container_runtime: {type: podman}\n", `container_runtime.type: "podman" is not one of apptainer, singularity, none`},
		{none + "shared_fs_path: /home\n", "shared_fs_path: container runtime none runs notebooks on the node's own filesystem and cannot bind folders"},
		{none + "allowed_bind_prefixes: [/home]\n", "allowed_bind_prefixes: container runtime none"},
		{none + "task_container_defaults:\n  bind_mounts: [{host_path: /a, container_path: /a}]\n", "task_container_defaults.bind_mounts: container runtime none"},
		{strings.Replace(none, "partition: cpu", "partition: cpu\n    task_defaults:\n      bind_mounts: []", 1), "resource_pools[1].task_defaults.bind_mounts: container runtime none"},
		{good + "allowed_bind_prefixes: [/shared, \"/data,x\"]\n", `allowed_bind_prefixes[1]: "/data,x": Apptainer's bind syntax reads it as 2 binds`},
		{good + "allowed_bind_prefixes: [\"/data:/x\"]\n", `allowed_bind_prefixes[0]: "/data:/x": Apptainer's bind syntax reads it as "/data" bound at "/x"`},
		{good + "allowed_bind_prefixes: [\"/data^x\"]\n", `allowed_bind_prefixes[0]: "/data^x"`},
		{good + "shared_fs_path: /gpfs:x\n", `shared_fs_path: "/gpfs:x"`},
		{strings.Replace(good, "/srv/jobs", "/srv/jobs,x", 1), `job_storage_root: "/srv/jobs,x"`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc), "/x")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	c, err := Parse([]byte(good+"allowed_bind_prefixes: [/shared/, rel/../data]\n"), "/etc/det")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.AllowedBindPrefixes, " "); got != "/shared /etc/det/data" {
		t.Errorf("prefixes not cleaned: %s", got)
	}
	if !c.ContainerRuntime.Capabilities().Isolated {
		t.Errorf("apptainer (the default) runs an image: %+v", c.ContainerRuntime.Capabilities())
	}
	if c, err := Parse([]byte(none), "/x"); err != nil || c.ContainerRuntime.Capabilities().Binds != "" {
		t.Errorf("none: %v", err)
	}
}
