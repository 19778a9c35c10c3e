// Package runtimes says what each container runtime a site may name can
// do, and reads the bind syntax they share. It imports nothing of ours.
package runtimes

// Names of the container runtimes (container_runtime.type).
const (
	Apptainer   = "apptainer"
	Singularity = "singularity"
	None        = "none"
)

// BindSyntax is how a runtime is told to bind host folders.
type BindSyntax string

// Bind syntaxes.
const (
	// NoBinds: the runtime runs on the host's own filesystem and can
	// bind nothing.
	NoBinds BindSyntax = ""
	// ApptainerBinds: --bind=SRC[:DST[:OPTS]], read by Apptainer's own
	// parser (ParseBinds).
	ApptainerBinds BindSyntax = "apptainer"
)

// Capabilities says what a runtime can do. Callers decide by these, never
// by the runtime's name.
type Capabilities struct {
	// GPU: the job's GPUs are usable in the notebook.
	GPU bool
	// GPUFlag is the runtime's flag that exposes the GPUs ("" when the
	// process sees them without one).
	GPUFlag string
	// Isolated: runs an image, not the host's filesystem; an image is
	// then required, and without it none may be given.
	Isolated bool
	// Binds is how host folders are bound; NoBinds means bind mounts
	// cannot be honoured.
	Binds BindSyntax
	// EnvPrefix: variables with this prefix in the runtime's environment
	// are set inside the container ("" passes the environment as it is).
	EnvPrefix string
	// LiteralEnv is true when every value of env and the working directory
	// reach the command exactly as given: no shell evaluates them on the way
	// (Apptainer and Singularity source their environment through a shell
	// unless told --no-eval). Nothing runs on a runtime without it.
	LiteralEnv bool
}

// table is every runtime's capabilities, in the order errors list them.
var table = []struct {
	name string
	caps Capabilities
}{
	{Apptainer, Capabilities{GPU: true, GPUFlag: "--nv", Isolated: true, Binds: ApptainerBinds, EnvPrefix: "APPTAINERENV_", LiteralEnv: true}},
	{Singularity, Capabilities{GPU: true, GPUFlag: "--nv", Isolated: true, Binds: ApptainerBinds, EnvPrefix: "SINGULARITYENV_", LiteralEnv: true}},
	// Without a container the process sees the GPUs Slurm gave the job.
	{None, Capabilities{GPU: true, LiteralEnv: true}},
}

// For returns the capabilities of the named runtime, and false for a name
// that is not a runtime.
func For(name string) (Capabilities, bool) {
	for _, r := range table {
		if r.name == name {
			return r.caps, true
		}
	}
	return Capabilities{}, false
}

// Names lists the runtimes' names.
func Names() []string {
	n := make([]string, len(table))
	for i, r := range table {
		n[i] = r.name
	}
	return n
}
