package rest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/det-slurm/bridge/slurm"
)

// option is one sbatch option slurmrestd's job description can carry.
type option struct {
	key string // v0.0.38 job key
	// conv turns the option's value into the key's JSON value; nil for a
	// flag, which sets the key to flag.
	conv func(string) (any, error)
	flag any
	// optional: the value may be left out (--exclusive), giving flag.
	optional bool
}

func str(v string) (any, error) { return v, nil }

func count(v string) (any, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%q is not a count", v)
	}
	return n, nil
}

// nodeRange reads --nodes: "2" or "1-2", as the [min, max] array the spec
// gives.
func nodeRange(v string) (any, error) {
	lo, hi, ranged := strings.Cut(v, "-")
	a, err := strconv.Atoi(lo)
	b := a
	if ranged && err == nil {
		b, err = strconv.Atoi(hi)
	}
	if err != nil || a < 1 || b < a {
		return nil, fmt.Errorf("%q is not a node count or range", v)
	}
	return []int{a, b}, nil
}

// minutes reads a Slurm time as sbatch --time does, in whole minutes.
func minutes(v string) (any, error) {
	d, err := slurm.ParseTimeLimit(v)
	if err != nil {
		return nil, err
	}
	return slurm.Minutes(d), nil
}

// megabytes reads a memory size as sbatch --mem does: a number with an
// optional K, M, G or T suffix (M when none), in MB.
func megabytes(v string) (any, error) {
	s := strings.TrimSuffix(strings.ToUpper(v), "B")
	mult := map[byte]float64{'K': 1.0 / 1024, 'M': 1, 'G': 1024, 'T': 1024 * 1024}
	f := 1.0
	if s != "" {
		if m, ok := mult[s[len(s)-1]]; ok {
			f, s = m, s[:len(s)-1]
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || len(s) > 12 {
		return nil, fmt.Errorf("%q is not a memory size", v)
	}
	mb := int64(n * f)
	if float64(mb) < n*f {
		mb++
	}
	return mb, nil
}

// options maps sbatch's long options to v0.0.38 job keys. nodelist and
// no_requeue are keys of slurmrestd's parser (openapi/v0.0.38 jobs.c)
// that its OpenAPI document does not list.
var options = map[string]option{
	"--job-name":      {key: "name", conv: str},
	"--partition":     {key: "partition", conv: str},
	"--nodes":         {key: "nodes", conv: nodeRange},
	"--ntasks":        {key: "tasks", conv: count},
	"--output":        {key: "standard_output", conv: str},
	"--chdir":         {key: "current_working_directory", conv: str},
	"--gres":          {key: "gres", conv: str},
	"--time":          {key: "time_limit", conv: minutes},
	"--requeue":       {key: "requeue", flag: true},
	"--no-requeue":    {key: "no_requeue", flag: true},
	"--open-mode":     {key: "open_mode", conv: str},
	"--signal":        {key: "signal", conv: str},
	"--account":       {key: "account", conv: str},
	"--qos":           {key: "qos", conv: str},
	"--mem":           {key: "memory_per_node", conv: megabytes},
	"--mem-per-cpu":   {key: "memory_per_cpu", conv: megabytes},
	"--cpus-per-task": {key: "cpus_per_task", conv: count},
	"--nodelist":      {key: "nodelist", conv: str},
	"--exclusive":     {key: "exclusive", conv: str, flag: "exclusive", optional: true},
	"--constraint":    {key: "constraints", conv: str},
	"--reservation":   {key: "reservation", conv: str},
	"--comment":       {key: "comment", conv: str},
}

// shortOptions are the short forms (-tVALUE, -p VALUE) of those options.
var shortOptions = map[byte]string{
	'J': "--job-name", 'p': "--partition", 'N': "--nodes", 'n': "--ntasks", 'o': "--output",
	'D': "--chdir", 't': "--time", 'A': "--account", 'q': "--qos", 'c': "--cpus-per-task",
	'w': "--nodelist", 'C': "--constraint",
}

// UnsupportedHint ends the error for an option slurmrestd cannot be given.
const UnsupportedHint = "not supported through slurmrestd: use slurm_interface: cli"

// JobFields translates sbatch's argv, as the bridge builds it (its own
// options, the pool's sbatch_args and the user's slurm.sbatch_args), into
// the fields of a v0.0.38 job description. An option it does not know is
// an error naming it; a later option overrides an earlier one, as with
// sbatch.
func JobFields(args []string) (map[string]any, error) {
	job := map[string]any{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := resolve(a)
		opt, ok := options[name]
		if !ok {
			if name == "" {
				return nil, fmt.Errorf("sbatch argument %q is not an option: %s", a, UnsupportedHint)
			}
			return nil, fmt.Errorf("sbatch option %s (%q): %s", name, a, UnsupportedHint)
		}
		switch {
		case opt.conv == nil && hasVal:
			return nil, fmt.Errorf("sbatch option %s takes no value (%q)", name, a)
		case opt.conv == nil, !hasVal && opt.optional:
			job[opt.key] = opt.flag
			continue
		case !hasVal:
			if i+1 >= len(args) {
				return nil, fmt.Errorf("sbatch option %s: no value given", name)
			}
			i++
			val = args[i]
		}
		v, err := opt.conv(val)
		if err != nil {
			return nil, fmt.Errorf("sbatch option %s: %w", name, err)
		}
		job[opt.key] = v
	}
	return job, nil
}

// CheckSbatchArgs reports whether every option in args can be sent
// through slurmrestd, for a site-config check of pools' sbatch_args.
func CheckSbatchArgs(args []string) error {
	_, err := JobFields(args)
	return err
}

// resolve reads one argument: its long option name (a short option or an
// unambiguous abbreviation made whole) and value, if given in it.
func resolve(a string) (name, val string, hasVal bool) {
	switch {
	case strings.HasPrefix(a, "--"):
		name, val, hasVal = strings.Cut(a, "=")
		if _, ok := options[name]; !ok {
			name = unabbreviate(name)
		}
		return name, val, hasVal
	case len(a) >= 2 && a[0] == '-':
		long, ok := shortOptions[a[1]]
		if !ok {
			return a[:2], "", false
		}
		if len(a) > 2 {
			return long, a[2:], true
		}
		return long, "", false
	}
	return "", "", false
}

// unabbreviate returns the one known option that name abbreviates, or
// name.
func unabbreviate(name string) string {
	found := ""
	for o := range options {
		if len(name) > 3 && strings.HasPrefix(o, name) {
			if found != "" {
				return name
			}
			found = o
		}
	}
	if found == "" {
		return name
	}
	return found
}
