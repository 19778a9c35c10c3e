// Package launcher is the in-job side of a notebook: it reads the task spec,
// starts Jupyter in the container runtime on a private Unix socket, and
// once Jupyter answers opens the tunnel to the bridge that carries the
// proxy's connections to that socket (tunnel mode), or holds a free port
// and splices it to the socket (direct mode); then it reports to the
// bridge, and records how it ended.
package launcher

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/runtimes"
)

// Container paths, as Determined lays them out.
const (
	ContainerWorkDir  = "/run/determined/workdir"
	ContainerSharedFS = "/run/determined/workdir/shared_fs"
	ContainerBinDir   = "/run/determined/bin"
)

// Capabilities says what a runtime can do; callers never switch on its
// type. The values come from package runtimes' table, which the bridge
// reads too.
type Capabilities = runtimes.Capabilities

// Runtime turns a spec and a command into the argv that runs the command in
// the spec's container, and the extra environment it needs.
type Runtime interface {
	Capabilities() Capabilities
	// Command returns the argv to run inner inside the container, with env
	// (NAME=VALUE) visible inside it. It does no I/O.
	// binds are extra host folders the command needs at the same path
	// inside the container.
	Command(spec *jobspec.Spec, hostWorkDir string, binds []string, inner []string, env []string) (argv []string, procEnv []string)
}

// RuntimeFor returns the runtime the spec names, with its capabilities
// from package runtimes' table.
func RuntimeFor(s *jobspec.Spec) (Runtime, error) {
	caps, ok := runtimes.For(s.Runtime)
	switch {
	case !ok:
		return nil, fmt.Errorf("runtime %q is not one of %s", s.Runtime, strings.Join(runtimes.Names(), ", "))
	case caps.Binds == runtimes.ApptainerBinds:
		return &Apptainer{Binary: s.RuntimeBin, caps: caps}, nil
	case !caps.Isolated:
		return None{caps: caps}, nil
	}
	return nil, fmt.Errorf("runtime %q has no implementation in the launcher", s.Runtime)
}

// Apptainer runs commands with apptainer exec (or singularity exec, which
// takes the same flags). It needs --no-eval: Apptainer >= 1.1 or
// SingularityCE >= 3.10; older ones refuse the flag and the job fails with
// their "unknown flag" message.
type Apptainer struct {
	Binary string
	caps   Capabilities
}

var _ Runtime = (*Apptainer)(nil)

// Capabilities implements Runtime.
func (a *Apptainer) Capabilities() Capabilities { return a.caps }

// Command implements Runtime. Values travel as --flag=value, so none can
// be read as a flag of its own, and --no-eval keeps the container's
// environment script from running $(...), `...` or ${...} found in the
// APPTAINERENV_ values (the user's, the site's and the pool's variables,
// and the DET_ variables such as the working directory).
func (a *Apptainer) Command(s *jobspec.Spec, hostWorkDir string, binds []string, inner []string, env []string) ([]string, []string) {
	argv := []string{a.Binary, "exec", "--no-eval"}
	if s.Slots > 0 && a.caps.GPUFlag != "" {
		argv = append(argv, a.caps.GPUFlag)
	}
	argv = append(argv, "--bind="+runtimes.Bind{Source: hostWorkDir, Dest: ContainerWorkDir}.String())
	for _, b := range s.Binds {
		argv = append(argv, "--bind="+b)
	}
	for _, b := range binds {
		argv = append(argv, "--bind="+runtimes.Bind{Source: b, Dest: b}.String())
	}
	if s.CLIPath != "" {
		argv = append(argv, "--bind="+runtimes.Bind{Source: s.CLIPath, Dest: ContainerBinDir + "/det", ReadOnly: true}.String())
		env = append(env, "PREPEND_PATH="+ContainerBinDir)
	}
	argv = append(argv, "--pwd="+containerWorkDir(s), s.Image)
	argv = append(argv, inner...)
	procEnv := make([]string, 0, len(env))
	for _, e := range env {
		procEnv = append(procEnv, a.caps.EnvPrefix+e)
	}
	return argv, procEnv
}

func containerWorkDir(s *jobspec.Spec) string {
	if s.WorkDir != "" {
		return s.WorkDir
	}
	return ContainerWorkDir
}

// None runs commands directly on the node, for sites without containers.
type None struct{ caps Capabilities }

var _ Runtime = None{}

// Capabilities implements Runtime. The environment goes to the process
// as it is, with no shell in between; nothing can be bound.
func (n None) Capabilities() Capabilities { return n.caps }

// Command implements Runtime; binds are already where they are.
func (None) Command(s *jobspec.Spec, hostWorkDir string, _ []string, inner []string, env []string) ([]string, []string) {
	dir := hostWorkDir
	if s.WorkDir != "" && filepath.IsAbs(s.WorkDir) {
		dir = s.WorkDir
	}
	argv := append([]string{"env", "-C", dir}, inner...)
	if s.CLIPath != "" {
		env = append(env, "PATH="+filepath.Dir(s.CLIPath)+":"+os.Getenv("PATH"))
	}
	return argv, env
}
