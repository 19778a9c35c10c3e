package taskconfig

import (
	"fmt"
	"math/rand/v2"
	"path"
	"regexp"
	"strings"

	"github.com/sylabs/singularity/v4/pkg/util/bind"
)

// forbiddenSbatch are the long sbatch options the bridge sets itself or
// that would take the job out of its hands (Determined forbids the same).
// sbatch accepts unambiguous abbreviations, so a prefix of one of these is
// refused too.
var forbiddenSbatch = []string{
	"--gpus", "--gpus-per-node", "--gpus-per-task", "--gpus-per-socket", "--tres-per-task",
	"--nodes", "--ntasks", "--ntasks-per-node", "--chdir", "--output", "--error", "--input",
	"--partition", "--requeue", "--gres", "--job-name", "--wrap", "--export", "--export-file",
	"--parsable", "--uid", "--gid", "--array", "--wait", "--clusters", "--test-only", "--hold",
	"--batch", "--get-user-env",
}

// shortSbatchWithValue are the short options a user may give, each taking
// its value in the same argument (-t60, -Aphysics): -t time, -A account,
// -q qos, -C constraint, -c cpus-per-task, -w nodelist, -x exclude,
// -b begin, -d dependency.
const shortSbatchWithValue = "tAqCcwxbd"

// checkSbatchArg refuses an option the bridge owns, in any spelling.
func checkSbatchArg(a string) error {
	if strings.ContainsAny(a, "\n\r\x00") {
		return fmt.Errorf("must not contain control characters")
	}
	if strings.HasPrefix(a, "--") {
		name, _, _ := strings.Cut(a, "=")
		if len(name) < 4 {
			return fmt.Errorf("%q is not a complete option name", a)
		}
		for _, f := range forbiddenSbatch {
			if strings.HasPrefix(f, name) {
				return fmt.Errorf("%q is set by the bridge (or would take the job out of its hands) and may not be given", a)
			}
		}
		return nil
	}
	if len(a) >= 3 && a[0] == '-' && strings.IndexByte(shortSbatchWithValue, a[1]) >= 0 {
		return nil
	}
	return fmt.Errorf("%q is not allowed: give long options as --name=value (short ones only as -tVALUE, -AVALUE, -qVALUE, -CVALUE, -cVALUE)", a)
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ReservedContainerPath is where the bridge's own files live in the
// container; bind mounts may not shadow it.
const ReservedContainerPath = "/run/determined"

// Validate checks the merged config and fills in defaults.
func (c *Config) Validate() error {
	if c.Resources.Slots != nil && *c.Resources.Slots < 0 {
		return &FieldError{Path: "resources.slots", Msg: fmt.Sprintf("must be 0 or more, not %d", *c.Resources.Slots)}
	}
	if _, err := c.IdleTimeoutDuration(); err != nil {
		return err
	}
	switch c.NotebookIdleType {
	case "":
		c.NotebookIdleType = IdleKernelsOrTerminals
	case IdleKernelsOrTerminals, IdleKernelConnections, IdleActivity:
	default:
		return &FieldError{Path: "notebook_idle_type", Msg: fmt.Sprintf("%q is not one of %s, %s, %s",
			c.NotebookIdleType, IdleKernelsOrTerminals, IdleKernelConnections, IdleActivity)}
	}
	for i, kv := range c.Environment.EnvironmentVariables {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || !envName.MatchString(k) {
			return &FieldError{Path: fmt.Sprintf("environment.environment_variables[%d]", i),
				Msg: fmt.Sprintf("%q must be NAME=VALUE with a valid variable name", kv)}
		}
	}
	for i, a := range c.Slurm.SbatchArgs {
		if err := checkSbatchArg(a); err != nil {
			return &FieldError{Path: fmt.Sprintf("slurm.sbatch_args[%d]", i), Msg: err.Error()}
		}
	}
	if c.Slurm.GPUType != "" && !regexp.MustCompile(`^[A-Za-z0-9_.-]+$`).MatchString(c.Slurm.GPUType) {
		return &FieldError{Path: "slurm.gpu_type", Msg: fmt.Sprintf("%q is not a GPU type name", c.Slurm.GPUType)}
	}
	for i, b := range c.BindMounts {
		if err := b.validate(fmt.Sprintf("bind_mounts[%d]", i)); err != nil {
			return err
		}
	}
	if strings.ContainsAny(c.Description, "\n\r\x00") {
		return &FieldError{Path: "description", Msg: "must be one line"}
	}
	if c.Description == "" {
		c.Description = "JupyterLab (" + RandomName() + ")"
	}
	return nil
}

func (b BindMount) validate(p string) error {
	if !path.IsAbs(b.HostPath) {
		return &FieldError{Path: p + ".host_path", Msg: fmt.Sprintf("%q must be an absolute path", b.HostPath)}
	}
	if !path.IsAbs(b.ContainerPath) {
		return &FieldError{Path: p + ".container_path", Msg: fmt.Sprintf("%q must be an absolute path", b.ContainerPath)}
	}
	cp := path.Clean(b.ContainerPath)
	if cp == ReservedContainerPath || strings.HasPrefix(cp, ReservedContainerPath+"/") && !strings.HasPrefix(cp, "/run/determined/workdir/") {
		return &FieldError{Path: p + ".container_path", Msg: fmt.Sprintf("%q would shadow %s", b.ContainerPath, ReservedContainerPath)}
	}
	for _, s := range []string{b.HostPath, b.ContainerPath} {
		if strings.ContainsAny(s, ",:\n\x00") {
			return &FieldError{Path: p, Msg: fmt.Sprintf("%q must not contain ',' ':' or control characters", s)}
		}
	}
	if _, err := bind.ParseBindPath(b.Spec()); err != nil {
		return &FieldError{Path: p, Msg: err.Error()}
	}
	return nil
}

// Spec renders the bind mount in Apptainer's src:dst[:ro] syntax.
func (b BindMount) Spec() string {
	s := path.Clean(b.HostPath) + ":" + path.Clean(b.ContainerPath)
	if b.ReadOnly {
		s += ":ro"
	}
	return s
}

var (
	adjectives = []string{"quiet", "brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "kind", "lively", "merry", "nimble", "proud", "silly", "witty", "zesty", "bold", "clever", "swift", "sunny"}
	animals    = []string{"otter", "badger", "falcon", "heron", "lemur", "marmot", "newt", "ocelot", "panda", "quokka", "raven", "seal", "tapir", "walrus", "yak", "zebra", "koala", "lynx", "moose", "ibis"}
)

// RandomName returns an adjective-animal name like "quiet-otter".
func RandomName() string {
	return adjectives[rand.IntN(len(adjectives))] + "-" + animals[rand.IntN(len(animals))]
}
