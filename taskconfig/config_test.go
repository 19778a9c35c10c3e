package taskconfig

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeUnknownField(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"typo nested", "resources:\n  slot: 2\n", "resources.slot: unknown field; did you mean resources.slots?"},
		{"top level", "descripton: x\n", "descripton: unknown field; did you mean description?"},
		{"in list", "bind_mounts:\n  - host_pth: /a\n    container_path: /b\n", "bind_mounts[0].host_pth: unknown field; did you mean bind_mounts[0].host_path?"},
		{"far off", "zzzzzzzz: 1\n", "zzzzzzzz: unknown field"},
		{"wrong shape", "resources: 3\n", "resources: must be a mapping"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ParseYAML([]byte(c.yaml))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Decode(m)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("got %v, want prefix %q", err, c.want)
			}
		})
	}
}

func TestMergeOrder(t *testing.T) {
	site, _ := ParseYAML([]byte("environment:\n  image: site.sif\nresources:\n  slots: 1\n"))
	file, _ := ParseYAML([]byte("resources:\n  resource_pool: cpu\n"))
	over, err := ParseOverride("resources.slots=0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Decode(Merge(Merge(site, file), over))
	if err != nil {
		t.Fatal(err)
	}
	if c.SlotCount() != 0 || c.Resources.ResourcePool != "cpu" || c.ImageFor(0) != "site.sif" {
		t.Fatalf("merged wrong: %+v", c)
	}
}

func TestOverrideTypes(t *testing.T) {
	m, err := ParseOverride("description=hello world")
	if err != nil {
		t.Fatal(err)
	}
	if m["description"] != "hello world" {
		t.Fatalf("got %#v", m)
	}
	if _, err := ParseOverride("noequals"); err == nil {
		t.Fatal("want error for missing =")
	}
}

func TestImageForms(t *testing.T) {
	m, _ := ParseYAML([]byte("environment:\n  image:\n    cpu: a.sif\n    cuda: b.sif\n"))
	c, err := Decode(m)
	if err != nil {
		t.Fatal(err)
	}
	if c.ImageFor(0) != "a.sif" || c.ImageFor(2) != "b.sif" {
		t.Fatalf("got %+v", c.Environment.Image)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		yaml, want string
	}{
		{"resources:\n  slots: -1\n", "resources.slots"},
		{"idle_timeout: soon\n", "idle_timeout"},
		{"notebook_idle_type: never\n", "notebook_idle_type"},
		{"environment:\n  environment_variables: [\"1A=b\"]\n", "environment.environment_variables[0]"},
		{"slurm:\n  sbatch_args: [\"--partition=x\"]\n", "slurm.sbatch_args[0]"},
		{"slurm:\n  sbatch_args: [\"-pgpu\"]\n", "slurm.sbatch_args[0]"},
		{"slurm:\n  sbatch_args: [\"--parti=gpu\"]\n", "slurm.sbatch_args[0]"},
		{"slurm:\n  sbatch_args: [\"--gpus-per-node=2\"]\n", "slurm.sbatch_args[0]"},
		{"slurm:\n  sbatch_args: [\"-vpgpu\"]\n", "slurm.sbatch_args[0]"},
		{"slurm:\n  sbatch_args: [\"--wait\"]\n", "slurm.sbatch_args[0]"},
		{"slurm:\n  sbatch_args: [\"--time\", \"10\"]\n", "slurm.sbatch_args[1]"},
		{"bind_mounts:\n  - host_path: rel\n    container_path: /x\n", "bind_mounts[0].host_path"},
		{"bind_mounts:\n  - host_path: /a\n    container_path: /run/determined\n", "bind_mounts[0].container_path"},
		{"description: \"a\\nb\"\n", "description"},
		{"description: \"a\\x1b[2Jb\"\n", "description: must be one line of text"},
		{"description: " + strings.Repeat("x", MaxDescriptionChars+1) + "\n", "description: is 1001 characters, more than the 1000 allowed"},
		{"resources:\n  slots: 2.5\n", "resources.slots: must be a whole number"},
		{"resources:\n  slots: -0.5\n", "resources.slots: must be a whole number"},
		{"resources:\n  slots: .nan\n", "resources.slots: must be a whole number"},
		{"resources:\n  slots: -2\n", "resources.slots: must be 0 or more"},
		{"slurm:\n  slots_per_node: -1\n", "slurm.slots_per_node: -1 is negative"},
		{"resources:\n  slots: 4\nslurm:\n  slots_per_node: 2\n", "slurm.slots_per_node: a notebook runs on one node"},
		{"pbs:\n  pbsbatch_args: [\"-l select=1\"]\n", "pbs: this cluster runs Slurm"},
		{"work_dir: -x\n", "work_dir: \"-x\" looks like an option"},
		{"work_dir: --pwd=/etc\n", "work_dir: \"--pwd=/etc\" looks like an option"},
		{"work_dir: notebooks\n", "work_dir: \"notebooks\" must be an absolute path"},
		{"work_dir: /a/../etc\n", "work_dir: \"/a/../etc\" must be a clean path"},
		{"work_dir: /a/\n", "work_dir: \"/a/\" must be a clean path"},
		{"work_dir: \"/a\\0b\"\n", "work_dir: contains the control character U+0000"},
		{"work_dir: \"/a\\nb\"\n", "work_dir: contains the control character U+000A"},
		{"work_dir: /" + strings.Repeat("a", MaxWorkDirBytes) + "\n", "work_dir: is 4096 bytes long"},
		{"environment:\n  environment_variables: [\"A=x\\0y\"]\n", "environment.environment_variables[A]: the value contains the control character U+0000"},
		{"environment:\n  environment_variables: [\"B=x\\ny\"]\n", "environment.environment_variables[B]: the value contains the control character U+000A"},
		{"environment:\n  environment_variables: [\"A\\0B=x\"]\n", "environment.environment_variables[0]"},
		{"environment:\n  environment_variables: [\"A-B=x\"]\n", "environment.environment_variables[0]"},
	}
	for _, c := range cases {
		m, err := ParseYAML([]byte(c.yaml))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := Decode(m)
		if err == nil {
			err = cfg.Validate()
		}
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got %v, want field %s", c.yaml, err, c.want)
		}
	}
	ok, _ := Decode(map[string]any{"slurm": map[string]any{"sbatch_args": []any{"--time=10", "--account=physics", "-t60", "--mem=4G", "--cpus-per-task=2"}}})
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	good, err := Decode(map[string]any{
		"work_dir": "/run/determined/workdir/shared_fs/my notebooks", "description": strings.Repeat("é", MaxDescriptionChars),
		"resources":   map[string]any{"slots": float64(2)}, // as JSON sends it
		"environment": map[string]any{"environment_variables": []any{"TABS=a\tb", "EMPTY=", "EQ=a=b", "SHELLISH=$(touch x)"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if good.SlotCount() != 2 {
		t.Fatalf("slots %d", good.SlotCount())
	}
	if !strings.HasPrefix(ok.Description, "JupyterLab (") {
		t.Fatalf("default description %q", ok.Description)
	}
}

func TestMergeListsAndEnv(t *testing.T) {
	site, _ := ParseYAML([]byte("environment:\n  environment_variables: [A=site, B=site]\nbind_mounts: [{host_path: /s, container_path: /s}]\n"))
	user, _ := ParseYAML([]byte("environment:\n  environment_variables: [B=user, C=user]\nbind_mounts: [{host_path: /u, container_path: /u}]\n"))
	c, err := Decode(Merge(site, user))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Environment.EnvironmentVariables, ","); got != "A=site,B=user,C=user" {
		t.Errorf("env merged to %s", got)
	}
	if len(c.BindMounts) != 2 {
		t.Errorf("bind mounts %+v", c.BindMounts)
	}
}

func TestSbatchOptionName(t *testing.T) {
	for arg, want := range map[string]string{
		"--account=physics": "--account", "--qos": "--qos", "--acc=x": "--acc",
		"-Aphysics": "--account", "-A": "--account", "-q": "--qos", "-t60": "--time",
		"-Z": "-Z", "physics": "", "": "",
	} {
		if got := SbatchOptionName(arg); got != want {
			t.Errorf("SbatchOptionName(%q) = %q, want %q", arg, got, want)
		}
	}
}

// TestDecodeEmpty: an empty config is the zero config, not an error (the
// decoder's io.EOF for an empty document is recognised with errors.Is).
func TestDecodeEmpty(t *testing.T) {
	for _, m := range []map[string]any{nil, {}} {
		c, err := Decode(m)
		if err != nil || c == nil || c.Description != "" || len(c.BindMounts) != 0 {
			t.Errorf("Decode(%v) = %+v, %v", m, c, err)
		}
	}
}

// TestConfigJSONHasNoNullLists: Determined's API never has null lists.
func TestConfigJSONHasNoNullLists(t *testing.T) {
	for _, v := range []any{Config{}, &Config{}} {
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"bind_mounts", "environment_variables", "sbatch_args"} {
			if !strings.Contains(string(out), `"`+k+`":[]`) {
				t.Errorf("%T: %s has no empty %s", v, out, k)
			}
		}
	}
}
