// Package taskconfig is the notebook config schema with Determined's field
// names: parsing, merging of defaults and overrides, and validation.
package taskconfig

import (
	"encoding/json"
	"fmt"
	"time"
)

// Config is a notebook's config after all layers were merged.
type Config struct {
	Description      string      `yaml:"description" json:"description"`
	Resources        Resources   `yaml:"resources" json:"resources"`
	BindMounts       []BindMount `yaml:"bind_mounts" json:"bind_mounts"`
	Environment      Environment `yaml:"environment" json:"environment"`
	IdleTimeout      string      `yaml:"idle_timeout" json:"idle_timeout"`
	NotebookIdleType string      `yaml:"notebook_idle_type" json:"notebook_idle_type"`
	WorkDir          string      `yaml:"work_dir" json:"work_dir"`
	Slurm            Slurm       `yaml:"slurm" json:"slurm"`
	// PBS is Determined's section for PBS clusters: read only to refuse
	// it with an error that says this cluster runs Slurm.
	PBS map[string]any `yaml:"pbs,omitempty" json:"pbs,omitempty"`
}

// MarshalJSON writes the config with its empty lists as [], never null,
// as Determined's API has them.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config // without this method
	p := plain(c)
	if p.BindMounts == nil {
		p.BindMounts = []BindMount{}
	}
	if p.Environment.EnvironmentVariables == nil {
		p.Environment.EnvironmentVariables = []string{}
	}
	if p.Slurm.SbatchArgs == nil {
		p.Slurm.SbatchArgs = []string{}
	}
	return json.Marshal(p)
}

// Resources is what the notebook asks of the cluster.
type Resources struct {
	// Slots is the number of GPUs; 0 means CPU only. Nil means the default (1).
	Slots        *int   `yaml:"slots" json:"slots"`
	ResourcePool string `yaml:"resource_pool" json:"resource_pool"`
}

// BindMount is one host folder bound into the container.
type BindMount struct {
	HostPath      string `yaml:"host_path" json:"host_path"`
	ContainerPath string `yaml:"container_path" json:"container_path"`
	ReadOnly      bool   `yaml:"read_only" json:"read_only"`
}

// Environment is the container the notebook runs in.
type Environment struct {
	Image                Image    `yaml:"image" json:"image"`
	EnvironmentVariables []string `yaml:"environment_variables" json:"environment_variables"`
}

// Image is either one image for all, or one for CPU and one for CUDA
// notebooks, as Determined allows.
type Image struct {
	CPU  string `yaml:"cpu" json:"cpu"`
	CUDA string `yaml:"cuda" json:"cuda"`
}

// Slurm holds Slurm-specific options.
type Slurm struct {
	SbatchArgs []string `yaml:"sbatch_args" json:"sbatch_args"`
	GPUType    string   `yaml:"gpu_type" json:"gpu_type"`
	// SlotsPerNode is Determined's GPUs per node of a multi-node task; a
	// notebook runs on one node, so it may only bound resources.slots.
	SlotsPerNode *int `yaml:"slots_per_node,omitempty" json:"slots_per_node,omitempty"`
}

// Idle types, with Determined's meanings.
const (
	IdleKernelsOrTerminals = "kernels_or_terminals"
	IdleKernelConnections  = "kernel_connections"
	IdleActivity           = "activity"
)

// SlotCount returns the number of GPUs asked for (1 when unset).
func (c *Config) SlotCount() int {
	if c.Resources.Slots == nil {
		return 1
	}
	return *c.Resources.Slots
}

// ImageFor returns the image for a notebook with the given slot count.
func (c *Config) ImageFor(slots int) string {
	if slots > 0 && c.Environment.Image.CUDA != "" {
		return c.Environment.Image.CUDA
	}
	return c.Environment.Image.CPU
}

// IdleTimeoutDuration parses idle_timeout; zero means never idle-killed.
func (c *Config) IdleTimeoutDuration() (time.Duration, error) {
	if c.IdleTimeout == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(c.IdleTimeout)
	if err != nil {
		return 0, &FieldError{Path: "idle_timeout", Msg: fmt.Sprintf("%q is not a duration (e.g. 30m, 90s)", c.IdleTimeout)}
	}
	if d < 0 {
		return 0, &FieldError{Path: "idle_timeout", Msg: "must not be negative"}
	}
	return d, nil
}

// FieldError is a problem with one field of the config, named by its
// dotted path.
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }
