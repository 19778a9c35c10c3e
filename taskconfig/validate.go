package taskconfig

import (
	"fmt"
	"math/rand/v2"
	"path"
	"regexp"
	"strings"

	"github.com/sylabs/singularity/v4/pkg/util/bind"
)

// forbiddenSbatch are sbatch options the bridge sets itself; a user may not
// override them (Determined forbids the same).
var forbiddenSbatch = []string{
	"--gpus", "-G", "--nodes", "-N", "--ntasks", "-n", "--ntasks-per-node",
	"--chdir", "-D", "--output", "-o", "--error", "-e", "--partition", "-p",
	"--requeue", "--gres", "--job-name", "-J", "--wrap", "--export", "--parsable",
	"--uid", "--gid", "--array", "-a",
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
		name, _, _ := strings.Cut(a, "=")
		for _, f := range forbiddenSbatch {
			if name == f || (len(f) == 2 && strings.HasPrefix(a, f) && !strings.HasPrefix(a, "--")) {
				return &FieldError{Path: fmt.Sprintf("slurm.sbatch_args[%d]", i),
					Msg: fmt.Sprintf("%q is set by the bridge and may not be given", a)}
			}
		}
		if !strings.HasPrefix(a, "-") {
			return &FieldError{Path: fmt.Sprintf("slurm.sbatch_args[%d]", i),
				Msg: fmt.Sprintf("%q must be an option (--name=value)", a)}
		}
		if strings.ContainsAny(a, "\n\r\x00") {
			return &FieldError{Path: fmt.Sprintf("slurm.sbatch_args[%d]", i), Msg: "must not contain control characters"}
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
