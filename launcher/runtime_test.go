package launcher

import (
	"slices"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/bridge/api"
)

func TestApptainerCommand(t *testing.T) {
	cases := []struct {
		slots  int
		wantNV bool
	}{{0, false}, {2, true}}
	for _, c := range cases {
		spec := &api.Spec{Runtime: "apptainer", RuntimeBin: "/opt/apptainer", Image: "/img.sif", Slots: c.slots,
			Binds: []string{"/shared:/run/determined/workdir/shared_fs"}}
		rt, err := RuntimeFor(spec)
		if err != nil {
			t.Fatal(err)
		}
		argv, env := rt.Command(spec, "/jobs/a/1/workdir", []string{"/bin/sh", "-c", "x"}, []string{"A=1"})
		if argv[0] != "/opt/apptainer" || argv[1] != "exec" {
			t.Fatalf("argv %v", argv)
		}
		if slices.Contains(argv, "--nv") != c.wantNV {
			t.Errorf("slots %d: --nv present = %v", c.slots, !c.wantNV)
		}
		joined := strings.Join(argv, " ")
		for _, w := range []string{"--bind /jobs/a/1/workdir:/run/determined/workdir", "--bind /shared:/run/determined/workdir/shared_fs", "--pwd /run/determined/workdir /img.sif /bin/sh -c x"} {
			if !strings.Contains(joined, w) {
				t.Errorf("argv %q lacks %q", joined, w)
			}
		}
		if !slices.Equal(env, []string{"APPTAINERENV_A=1"}) {
			t.Errorf("env %v", env)
		}
	}
}

func TestSingularityEnvPrefix(t *testing.T) {
	rt, err := RuntimeFor(&api.Spec{Runtime: "singularity", RuntimeBin: "singularity"})
	if err != nil {
		t.Fatal(err)
	}
	if rt.Capabilities().EnvPrefix != "SINGULARITYENV_" || !rt.Capabilities().GPU {
		t.Fatalf("%+v", rt.Capabilities())
	}
	if _, err := RuntimeFor(&api.Spec{Runtime: "podman"}); err == nil {
		t.Fatal("unknown runtime accepted")
	}
}

func TestJupyterScriptTakesNoArguments(t *testing.T) {
	// Every value reaches the script through quoted variables, so the
	// script text itself never changes with the task.
	if strings.Contains(jupyterScript, "$1") || strings.Contains(jupyterScript, "eval") {
		t.Fatal("the Jupyter start script must not take positional values or eval")
	}
	for _, v := range []string{`"$DET_PORT"`, `"$DET_BASE_URL"`} {
		if !strings.Contains(jupyterScript, v) {
			t.Errorf("script lacks quoted %s", v)
		}
	}
}
