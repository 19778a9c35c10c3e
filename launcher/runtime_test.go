package launcher

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/runtimes"
)

func TestApptainerCommand(t *testing.T) {
	cases := []struct {
		slots  int
		wantNV bool
	}{{0, false}, {2, true}}
	for _, c := range cases {
		spec := &jobspec.Spec{Runtime: "apptainer", RuntimeBin: "/opt/apptainer", Image: "/img.sif", Slots: c.slots,
			Binds: []string{"/shared:/run/determined/workdir/shared_fs"}}
		rt, err := RuntimeFor(spec)
		if err != nil {
			t.Fatal(err)
		}
		argv, env := rt.Command(spec, "/jobs/a/1/workdir", []string{"/tmp/det-jupyter-1"}, []string{"/bin/sh", "-c", "x"}, []string{"A=1"})
		if argv[0] != "/opt/apptainer" || argv[1] != "exec" || argv[2] != "--no-eval" {
			t.Fatalf("argv %v", argv)
		}
		if slices.Contains(argv, "--nv") != c.wantNV {
			t.Errorf("slots %d: --nv present = %v", c.slots, !c.wantNV)
		}
		joined := strings.Join(argv, " ")
		for _, w := range []string{"--bind=/jobs/a/1/workdir:/run/determined/workdir", "--bind=/shared:/run/determined/workdir/shared_fs",
			"--bind=/tmp/det-jupyter-1:/tmp/det-jupyter-1", "--pwd=/run/determined/workdir /img.sif /bin/sh -c x"} {
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
	rt, err := RuntimeFor(&jobspec.Spec{Runtime: "singularity", RuntimeBin: "singularity"})
	if err != nil {
		t.Fatal(err)
	}
	if rt.Capabilities().EnvPrefix != "SINGULARITYENV_" || !rt.Capabilities().GPU {
		t.Fatalf("%+v", rt.Capabilities())
	}
	if _, err := RuntimeFor(&jobspec.Spec{Runtime: "podman"}); err == nil {
		t.Fatal("unknown runtime accepted")
	}
}

func TestJupyterScriptTakesNoArguments(t *testing.T) {
	// Every value reaches the script through quoted variables, so the
	// script text itself never changes with the task.
	if strings.Contains(jupyterScript, "$1") || strings.Contains(jupyterScript, "eval") {
		t.Fatal("the Jupyter start script must not take positional values or eval")
	}
	for _, v := range []string{`"$DET_JUPYTER_SOCKET"`, `"$DET_BASE_URL"`} {
		if !strings.Contains(jupyterScript, v) {
			t.Errorf("script lacks quoted %s", v)
		}
	}
	// Jupyter never listens on TCP: the launcher holds the port.
	for _, flag := range []string{"--port", "--ip"} {
		if strings.Contains(jupyterScript, flag) {
			t.Errorf("script gives Jupyter %s", flag)
		}
	}
}

// TestApptainerValuesStayLiteral: values that a shell would run, or that
// look like flags, reach apptainer as single arguments behind --no-eval,
// the work_dir and binds in the --flag=value form, and the environment
// unchanged under the runtime's prefix.
func TestApptainerValuesStayLiteral(t *testing.T) {
	evil := []string{"$(touch /tmp/p)", "`touch /tmp/p`", "x; touch /tmp/p", "${HOME}", "a\nb", "'q\"", "--nv"}
	for _, runtime := range []string{"apptainer", "singularity"} {
		spec := &jobspec.Spec{Runtime: runtime, RuntimeBin: "/opt/rt", Image: "/img.sif", WorkDir: "/tmp/$(touch /tmp/p)",
			Binds: []string{"/data/-x $(y):/d"}, CLIPath: "/opt/det"}
		rt, err := RuntimeFor(spec)
		if err != nil {
			t.Fatal(err)
		}
		if !rt.Capabilities().LiteralEnv {
			t.Fatalf("%s: LiteralEnv is false", runtime)
		}
		var env []string
		for i, v := range evil {
			env = append(env, fmt.Sprintf("V%d=%s", i, v))
		}
		argv, procEnv := rt.Command(spec, "/jobs/a/1/workdir", nil, jupyterCommand(), env)
		if argv[1] != "exec" || argv[2] != "--no-eval" {
			t.Fatalf("%s: argv %q does not start with exec --no-eval", runtime, argv)
		}
		for _, want := range []string{"--pwd=/tmp/$(touch /tmp/p)", "--bind=/data/-x $(y):/d", "--bind=/opt/det:" + ContainerBinDir + "/det:ro"} {
			if !slices.Contains(argv, want) {
				t.Errorf("%s: argv %q lacks the single argument %q", runtime, argv, want)
			}
		}
		if slices.Contains(argv, "--pwd") || slices.Contains(argv, "--bind") {
			t.Errorf("%s: a flag's value is a separate argument: %q", runtime, argv)
		}
		if got := argv[len(argv)-len(jupyterCommand()):]; !slices.Equal(got, jupyterCommand()) {
			t.Errorf("%s: inner command %q, want the fixed script", runtime, got)
		}
		prefix := rt.Capabilities().EnvPrefix
		for i, v := range evil {
			if want := fmt.Sprintf("%sV%d=%s", prefix, i, v); !slices.Contains(procEnv, want) {
				t.Errorf("%s: env lacks %q: %q", runtime, want, procEnv)
			}
		}
		if !slices.Contains(procEnv, prefix+"PREPEND_PATH="+ContainerBinDir) {
			t.Errorf("%s: env %q lacks PREPEND_PATH", runtime, procEnv)
		}
	}
}

// TestNoneRuntimeEnvAsIs: without a container the environment goes to the
// process untouched.
func TestNoneRuntimeEnvAsIs(t *testing.T) {
	rt, err := RuntimeFor(&jobspec.Spec{Runtime: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if !rt.Capabilities().LiteralEnv {
		t.Fatal("LiteralEnv is false")
	}
	argv, env := rt.Command(&jobspec.Spec{}, "/w", []string{"/tmp/s"}, []string{"/bin/sh", "-c", "x"}, []string{"A=$(x)"})
	if !slices.Equal(argv, []string{"env", "-C", "/w", "/bin/sh", "-c", "x"}) || !slices.Equal(env, []string{"A=$(x)"}) {
		t.Fatalf("argv %q env %q", argv, env)
	}
}

// TestRuntimeCapabilitiesFromTable: each runtime reports the table's
// capabilities, and the GPU flag the table names is what asks for GPUs.
func TestRuntimeCapabilitiesFromTable(t *testing.T) {
	for _, name := range runtimes.Names() {
		rt, err := RuntimeFor(&jobspec.Spec{Runtime: name, RuntimeBin: "/opt/rt"})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := runtimes.For(name)
		if rt.Capabilities() != want {
			t.Errorf("%s: %+v, the table says %+v", name, rt.Capabilities(), want)
		}
		argv, _ := rt.Command(&jobspec.Spec{Slots: 1, Image: "/i.sif"}, "/w", nil, []string{"x"}, nil)
		if want.GPUFlag != "" && !slices.Contains(argv, want.GPUFlag) {
			t.Errorf("%s: argv %q lacks the GPU flag %q", name, argv, want.GPUFlag)
		}
	}
}

// TestPrepareRefusesBindsWithoutBindSupport: a task whose binds the
// runtime cannot honour fails with a message naming them, instead of
// running without them.
func TestPrepareRefusesBindsWithoutBindSupport(t *testing.T) {
	spec := &jobspec.Spec{TaskID: "t", JobDir: t.TempDir(), Runtime: runtimes.None, Binds: []string{"/shared:/data"}}
	_, err := prepare(spec, 1234, quiet)
	if err == nil || !strings.Contains(err.Error(), "cannot bind") || !strings.Contains(err.Error(), "/shared:/data") {
		t.Fatalf("prepare: %v", err)
	}
}
