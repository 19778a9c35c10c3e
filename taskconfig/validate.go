package taskconfig

import (
	"fmt"
	"math/rand/v2"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// forbiddenSbatch are the long sbatch options the bridge sets itself or
// that would take the job out of its hands (Determined forbids the same;
// --requeue and --no-requeue are the pool's preemption policy).
// sbatch accepts unambiguous abbreviations, so a prefix of one of these is
// refused too.
var forbiddenSbatch = []string{
	"--gpus", "--gpus-per-node", "--gpus-per-task", "--gpus-per-socket", "--tres-per-task",
	"--nodes", "--ntasks", "--ntasks-per-node", "--chdir", "--output", "--error", "--input",
	"--partition", "--requeue", "--gres", "--job-name", "--wrap", "--export", "--export-file",
	"--parsable", "--uid", "--gid", "--array", "--wait", "--clusters", "--test-only", "--hold",
	"--batch", "--get-user-env", "--no-requeue", "--open-mode",
}

// shortSbatchWithValue are the short options a user may give, each taking
// its value in the same argument (-t60, -Aphysics): -t time, -A account,
// -q qos, -C constraint, -c cpus-per-task, -w nodelist, -x exclude,
// -b begin, -d dependency.
const shortSbatchWithValue = "tAqCcwxbd"

// sbatchShort maps sbatch's short options to their long names.
var sbatchShort = map[byte]string{
	'A': "--account", 'a': "--array", 'b': "--begin", 'C': "--constraint", 'c': "--cpus-per-task",
	'D': "--chdir", 'd': "--dependency", 'e': "--error", 'F': "--nodefile", 'G': "--gpus",
	'H': "--hold", 'I': "--immediate", 'i': "--input", 'J': "--job-name", 'k': "--no-kill",
	'L': "--licenses", 'M': "--clusters", 'm': "--distribution", 'N': "--nodes", 'n': "--ntasks",
	'O': "--overcommit", 'o': "--output", 'p': "--partition", 'q': "--qos", 'S': "--core-spec",
	's': "--oversubscribe", 't': "--time", 'W': "--wait", 'w': "--nodelist", 'x': "--exclude",
}

// SbatchOptionName returns the long option an sbatch argument sets: the
// name before "=" of a long option as written (sbatch also takes
// unambiguous abbreviations, so "--acc=x" gives "--acc"), the long name of
// a short one ("-Aphysics" and "-A" give "--account"), or "" for an
// argument that is not an option (the value of the one before it).
func SbatchOptionName(arg string) string {
	if strings.HasPrefix(arg, "--") {
		name, _, _ := strings.Cut(arg, "=")
		return name
	}
	if len(arg) >= 2 && arg[0] == '-' {
		if long, ok := sbatchShort[arg[1]]; ok {
			return long
		}
		return arg[:2]
	}
	return ""
}

// checkSbatchArg refuses an option the bridge owns, in any spelling.
func checkSbatchArg(a string) error {
	if strings.ContainsAny(a, "\n\r\x00") {
		return fmt.Errorf("must not contain control characters")
	}
	if strings.HasPrefix(a, "--") {
		name, _, _ := strings.Cut(a, "=")
		if len(name) < 4 {
			return fmt.Errorf("%s is not a complete option name", quote(a))
		}
		for _, f := range forbiddenSbatch {
			if strings.HasPrefix(f, name) {
				return fmt.Errorf("%s is set by the bridge (or would take the job out of its hands) and may not be given", quote(a))
			}
		}
		return nil
	}
	if len(a) >= 3 && a[0] == '-' && strings.IndexByte(shortSbatchWithValue, a[1]) >= 0 {
		return nil
	}
	return fmt.Errorf("%s is not allowed: give long options as --name=value (short ones only as -tVALUE, -AVALUE, -qVALUE, -CVALUE, -cVALUE)", quote(a))
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Limits of free-text fields.
const (
	// MaxDescriptionChars bounds description: it is shown in every
	// listing and stored with the task.
	MaxDescriptionChars = 1000
	// MaxWorkDirBytes is the longest work_dir, Linux's PATH_MAX less its NUL.
	MaxWorkDirBytes = 4095
)

// checkText refuses text that is not UTF-8 or holds control characters
// (NUL, line breaks, escape sequences), which would cut or forge what
// terminals, logs and the container's environment show. Tabs pass when
// allowTab is set.
func checkText(s string, allowTab bool) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("is not valid UTF-8")
	}
	for i, r := range s {
		if unicode.IsControl(r) && !(allowTab && r == '\t') {
			return fmt.Errorf("contains the control character %U at byte %d", r, i)
		}
	}
	return nil
}

// quote quotes a value for an error message, cut short when it is long:
// the message goes back to the client and into logs.
func quote(s string) string {
	const max = 100
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:max]) + fmt.Sprintf("... (%d bytes)", len(s))
}

// checkWorkDir accepts "" (the default) or an absolute, clean path in the
// container: it reaches the runtime's --pwd, so it must never read as an
// option or hold characters a path cannot.
func checkWorkDir(p string) error {
	if p == "" {
		return nil
	}
	if len(p) > MaxWorkDirBytes {
		return fmt.Errorf("is %d bytes long, more than the %d a path may have", len(p), MaxWorkDirBytes)
	}
	if err := checkText(p, false); err != nil {
		return err
	}
	switch {
	case strings.HasPrefix(p, "-"):
		return fmt.Errorf("%s looks like an option; give an absolute path in the container, e.g. /run/determined/workdir", quote(p))
	case !path.IsAbs(p):
		return fmt.Errorf("%s must be an absolute path in the container, e.g. /run/determined/workdir", quote(p))
	case path.Clean(p) != p:
		return fmt.Errorf("%s must be a clean path (no \".\", \"..\", \"//\" or trailing \"/\"); did you mean %s?", quote(p), quote(path.Clean(p)))
	}
	return nil
}

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
		return &FieldError{Path: "notebook_idle_type", Msg: fmt.Sprintf("%s is not one of %s, %s, %s",
			quote(c.NotebookIdleType), IdleKernelsOrTerminals, IdleKernelConnections, IdleActivity)}
	}
	for i, kv := range c.Environment.EnvironmentVariables {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !envName.MatchString(k) {
			return &FieldError{Path: fmt.Sprintf("environment.environment_variables[%d]", i),
				Msg: fmt.Sprintf("%s must be NAME=VALUE with a valid variable name", quote(kv))}
		}
		if err := checkText(v, true); err != nil {
			return &FieldError{Path: "environment.environment_variables[" + k + "]", Msg: "the value " + err.Error()}
		}
	}
	if err := checkWorkDir(c.WorkDir); err != nil {
		return &FieldError{Path: "work_dir", Msg: err.Error()}
	}
	for i, a := range c.Slurm.SbatchArgs {
		if err := checkSbatchArg(a); err != nil {
			return &FieldError{Path: fmt.Sprintf("slurm.sbatch_args[%d]", i), Msg: err.Error()}
		}
	}
	if c.Slurm.GPUType != "" && !regexp.MustCompile(`^[A-Za-z0-9_.-]+$`).MatchString(c.Slurm.GPUType) {
		return &FieldError{Path: "slurm.gpu_type", Msg: fmt.Sprintf("%s is not a GPU type name", quote(c.Slurm.GPUType))}
	}
	if n := c.Slurm.SlotsPerNode; n != nil {
		if *n < 0 {
			return &FieldError{Path: "slurm.slots_per_node", Msg: fmt.Sprintf("%d is negative", *n)}
		}
		if *n > 0 && c.SlotCount() > *n {
			return &FieldError{Path: "slurm.slots_per_node", Msg: fmt.Sprintf("a notebook runs on one node, so resources.slots (%d) cannot be more than slurm.slots_per_node (%d)", c.SlotCount(), *n)}
		}
	}
	if len(c.PBS) > 0 {
		return &FieldError{Path: "pbs", Msg: "this cluster runs Slurm, not PBS: put scheduler options under slurm (sbatch_args, gpu_type, slots_per_node)"}
	}
	for i, b := range c.BindMounts {
		if err := b.validate(fmt.Sprintf("bind_mounts[%d]", i)); err != nil {
			return err
		}
	}
	if n := utf8.RuneCountInString(c.Description); n > MaxDescriptionChars {
		return &FieldError{Path: "description", Msg: fmt.Sprintf("is %d characters, more than the %d allowed", n, MaxDescriptionChars)}
	}
	if err := checkText(c.Description, false); err != nil {
		return &FieldError{Path: "description", Msg: "must be one line of text: it " + err.Error()}
	}
	if c.Description == "" {
		c.Description = "JupyterLab (" + RandomName() + ")"
	}
	return nil
}

var (
	adjectives = []string{"quiet", "brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "kind", "lively", "merry", "nimble", "proud", "silly", "witty", "zesty", "bold", "clever", "swift", "sunny"}
	animals    = []string{"otter", "badger", "falcon", "heron", "lemur", "marmot", "newt", "ocelot", "panda", "quokka", "raven", "seal", "tapir", "walrus", "yak", "zebra", "koala", "lynx", "moose", "ibis"}
)

// RandomName returns an adjective-animal name like "quiet-otter".
func RandomName() string {
	return adjectives[rand.IntN(len(adjectives))] + "-" + animals[rand.IntN(len(animals))]
}
