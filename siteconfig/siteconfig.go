// Package siteconfig is the site admin's config: where the bridge listens,
// where jobs keep their files, the container runtime, and the resource pools
// that map to Slurm partitions. A Determined master.yaml for Slurm is read
// too, and mapped to the same settings (determined*.go).
package siteconfig

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/det-slurm/bridge/runtimes"
)

// Config is the whole site config.
type Config struct {
	// ClusterName names the cluster to Determined's clients (GET
	// /api/v1/master); the host of ExternalURL when unset.
	ClusterName string `yaml:"cluster_name"`
	Listen      string `yaml:"listen"`
	// MetricsListen is a host:port where Prometheus metrics are served at
	// /metrics without a login (keep it on loopback or a monitoring
	// network). Empty serves them only on the main port, to admins.
	MetricsListen string `yaml:"metrics_listen"`
	ExternalURL   string `yaml:"external_url"`
	CallbackURL   string `yaml:"callback_url"`
	// NotebookOrigin gives each notebook its own browser origin: a URL
	// whose host holds {id}, such as https://{id}.nb.example.org (wildcard
	// DNS and certificate). Empty serves notebooks under the bridge's own
	// origin at /proxy/<id>/ (path mode).
	NotebookOrigin string `yaml:"notebook_origin"`
	// ProxyMode is how the proxy reaches a notebook: api.ProxyModeTunnel
	// (the default: the job dials the bridge and Jupyter listens on no
	// network port) or api.ProxyModeDirect (the bridge connects to a port
	// the job holds on its node). A pool may set its own.
	ProxyMode      string        `yaml:"proxy_mode"`
	origins        *parsedOrigin // set by the check
	DBPath         string        `yaml:"db_path"`
	JobStorageRoot string        `yaml:"job_storage_root"`
	SharedFSPath   string        `yaml:"shared_fs_path"`
	LauncherPath   string        `yaml:"launcher_path"`
	CLIPath        string        `yaml:"cli_path"`
	UnmungePath    string        `yaml:"unmunge_path"`
	// MungeAutoCreate creates (and links) a bridge user on a POSIX user's
	// first munge login.
	MungeAutoCreate bool `yaml:"munge_auto_create_users"`
	// MinUID is the lowest uid a bridge user may be linked to (and a munge
	// login come from): accounts below it are the system's. 0 or unset
	// means 1000. Root, the slurm and the munge accounts are refused
	// whatever it is.
	MinUID int `yaml:"min_uid"`
	// InsecureEmptyDefaultPasswords lets admin and determined keep their
	// empty passwords: for a test cluster only.
	InsecureEmptyDefaultPasswords bool           `yaml:"insecure_empty_default_passwords"`
	ContainerRuntime              Runtime        `yaml:"container_runtime"`
	DefaultImages                 Images         `yaml:"default_images"`
	AllowedBindPrefixes           []string       `yaml:"allowed_bind_prefixes"`
	NotebookTimeout               string         `yaml:"notebook_timeout"`
	MinIdleTimeout                string         `yaml:"min_idle_timeout"`
	HeartbeatInterval             string         `yaml:"heartbeat_interval"`
	ReconcileInterval             string         `yaml:"reconcile_interval"`
	CapacityInterval              string         `yaml:"capacity_interval"`
	AutoPools                     bool           `yaml:"auto_pools"`
	TaskContainerDefaults         map[string]any `yaml:"task_container_defaults"`
	DefaultComputePool            string         `yaml:"default_compute_pool"`
	DefaultAuxPool                string         `yaml:"default_aux_pool"`
	ResourcePools                 []Pool         `yaml:"resource_pools"`
	// Clusters are the Slurm clusters besides the local one (the one the
	// login node's slurm.conf names) that pools may name.
	Clusters []Cluster         `yaml:"clusters"`
	SlurmEnv map[string]string `yaml:"slurm_env"`
	// SlurmInterface is how the bridge reaches the local cluster: cli
	// (the Slurm commands, the default) or rest (slurmrestd, with
	// Slurmrestd set).
	SlurmInterface string      `yaml:"slurm_interface"`
	Slurmrestd     *Slurmrestd `yaml:"slurmrestd"`
	// AuditRetention is how long the audit trail keeps an entry ("365d",
	// "2160h"); DefaultAuditRetention when unset.
	AuditRetention string `yaml:"audit_retention"`
	// PasswordChangeLoginWithin is how recent a login must be for its
	// token to change its own user's password ("5m"): the proof that the
	// one changing it knows the current password, since Determined's
	// clients send none. DefaultPasswordChangeLoginWithin when unset.
	PasswordChangeLoginWithin string `yaml:"password_change_login_within"`

	// Interval, MinIdle and Heartbeat are the parsed durations.
	Interval  time.Duration `yaml:"-"`
	MinIdle   time.Duration `yaml:"-"`
	Heartbeat time.Duration `yaml:"-"`
	Capacity  time.Duration `yaml:"-"`
	// AuditRetentionPeriod is AuditRetention parsed.
	AuditRetentionPeriod time.Duration `yaml:"-"`
	// PasswordChangeWindow is PasswordChangeLoginWithin parsed.
	PasswordChangeWindow time.Duration `yaml:"-"`
	// LocalClusterName is the login node's own cluster's ClusterName, as
	// Slurm says it (det-bridge asks at start on a site of several
	// clusters); "" when unknown.
	LocalClusterName string `yaml:"-"`

	// Determined says, field by field, how a Determined master.yaml was
	// mapped to this config; nil when the file is in the bridge's own
	// format.
	Determined []Mapped `yaml:"-"`
}

// Runtime names the container runtime and its binary.
type Runtime struct {
	Type   string `yaml:"type"` // a name in package runtimes: apptainer, singularity or none
	Binary string `yaml:"binary"`
}

// Images are the default images for CPU and CUDA notebooks.
type Images struct {
	CPU  string `yaml:"cpu"`
	CUDA string `yaml:"cuda"`
}

// Pool is a resource pool backed by one Slurm partition.
type Pool struct {
	Name      string `yaml:"name"`
	Partition string `yaml:"partition"`
	// Cluster is the Slurm cluster of the partition: "" for the local one,
	// else a name of the site's clusters:.
	Cluster     string `yaml:"cluster"`
	Description string `yaml:"description"`
	GPU         GPU    `yaml:"gpu"`
	// SbatchArgs are given to every job of the pool (--account, --qos,
	// --time, --constraint, ...), before the user's own. They are the
	// pool's policy: a user may not give an option set here, in any
	// spelling, unless AllowedSbatchArgs names it.
	SbatchArgs []string `yaml:"sbatch_args"`
	// AllowedSbatchArgs, when set, are the only option names a user may
	// add (e.g. --time, --mem); naming one the pool sets lets users
	// override it.
	AllowedSbatchArgs []string `yaml:"allowed_sbatch_args"`
	// ProxyMode overrides the site's proxy_mode for this pool's tasks;
	// empty takes the site's.
	ProxyMode string `yaml:"proxy_mode"`
	// SlotsPerNode, when set, must match the GPUs Slurm reports per node.
	SlotsPerNode int            `yaml:"slots_per_node"`
	MaxSlots     int            `yaml:"max_slots"`
	Defaults     map[string]any `yaml:"task_defaults"`
	// GPUFromSlurm leaves GPU.Gres to Slurm: when the bridge starts, a
	// pool whose partition has GPUs asks for them as GRES gpu, as a pool
	// of a Determined master.yaml without slot_type does.
	GPUFromSlurm bool `yaml:"-"`
	// Preemptible pools' jobs are submitted with --requeue: a notebook
	// that Slurm preempts is queued again and comes back with the same
	// id and URL. Other pools' jobs get --no-requeue and end "preempted".
	Preemptible bool `yaml:"preemptible"`
	// MaxWalltime (Slurm's time format, e.g. "8:00:00") is the longest
	// time limit `det notebook extend` may give a notebook of the pool;
	// unset, notebooks of the pool cannot be extended. MaxExtensions
	// bounds how many times one notebook may be extended (0: no bound
	// but MaxWalltime).
	MaxWalltime   string `yaml:"max_walltime"`
	MaxExtensions int    `yaml:"max_extensions"`
	// MaxWalltimeLimit is MaxWalltime parsed; zero when unset.
	MaxWalltimeLimit time.Duration `yaml:"-"`
}

// GPU is the GRES a pool's GPUs are requested with; an empty Gres means
// the pool has no GPUs.
type GPU struct {
	Gres string `yaml:"gres"`
	Type string `yaml:"type"`
}

// DefaultMinUID is min_uid when the site config does not set it: the
// first uid of a person's account on most Linux distributions.
const DefaultMinUID = 1000

var yamlLine = regexp.MustCompile(`line (\d+):`)

// Load reads and validates a site config. Relative paths in it are taken
// relative to the folder the file is in.
func Load(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read site config: %w", err)
	}
	c, err := Parse(data, filepath.Dir(file))
	if err != nil {
		// "line 12: ..." becomes "site.yaml:12: ...", as compilers say it.
		msg := yamlLine.ReplaceAllString(err.Error(), file+":$1:")
		msg = strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(msg, "unmarshal errors:")), "\n")
		if !strings.HasPrefix(msg, file) {
			msg = file + ": " + msg
		}
		return nil, errors.New(msg)
	}
	return c, nil
}

// Parse parses a site config whose relative paths are relative to dir:
// the bridge's own format, or a Determined master.yaml (one with a
// resource_manager, or with resource_pools that have a provider).
func Parse(data []byte, dir string) (*Config, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", dir, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if isDeterminedMaster(&root) {
		c, err := fromDetermined(&root, abs)
		if err != nil {
			return nil, err
		}
		if err := c.finish(abs); err != nil {
			return nil, fmt.Errorf("the settings mapped from this Determined master.yaml: %w", err)
		}
		return c, nil
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := c.finish(abs); err != nil {
		return nil, err
	}
	return &c, nil
}

// finish fills in the defaults, makes relative paths relative to the
// config's folder abs and validates.
func (c *Config) finish(abs string) error {
	c.setDefaults()
	for i := range c.AllowedBindPrefixes {
		if p := c.AllowedBindPrefixes[i]; !filepath.IsAbs(p) {
			c.AllowedBindPrefixes[i] = filepath.Join(abs, p)
		}
	}
	for _, p := range append([]*string{&c.DBPath, &c.JobStorageRoot, &c.SharedFSPath, &c.LauncherPath, &c.CLIPath,
		&c.ContainerRuntime.Binary, &c.DefaultImages.CPU, &c.DefaultImages.CUDA}, c.slurmrestdKeys()...) {
		if *p != "" && !filepath.IsAbs(*p) && strings.ContainsRune(*p, '/') {
			*p = filepath.Join(abs, *p)
		}
	}
	return c.validate()
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.ExternalURL == "" {
		c.ExternalURL = "http://" + c.Listen
	}
	if c.CallbackURL == "" {
		c.CallbackURL = c.ExternalURL
	}
	if c.ContainerRuntime.Type == "" {
		c.ContainerRuntime.Type = runtimes.Apptainer
	}
	if c.ContainerRuntime.Binary == "" {
		c.ContainerRuntime.Binary = c.ContainerRuntime.Type
	}
	if c.ReconcileInterval == "" {
		c.ReconcileInterval = "5s"
	}
	if c.CLIPath == "" && c.LauncherPath != "" {
		c.CLIPath = filepath.Join(filepath.Dir(c.LauncherPath), "det")
	}
	if c.MinUID == 0 {
		c.MinUID = DefaultMinUID
	}
	if c.UnmungePath == "" {
		c.UnmungePath = "unmunge"
	}
	if c.HeartbeatInterval == "" {
		c.HeartbeatInterval = "5s"
	}
	if c.CapacityInterval == "" {
		c.CapacityInterval = "10s"
	}
}

func (c *Config) validate() error {
	for _, u := range []struct{ name, v string }{{"external_url", c.ExternalURL}, {"callback_url", c.CallbackURL}} {
		if p, err := url.Parse(u.v); err != nil || p.Scheme == "" || p.Host == "" {
			return fmt.Errorf("%s: %q is not an absolute URL", u.name, u.v)
		}
	}
	if err := c.checkNotebookOrigin(); err != nil {
		return err
	}
	if c.MetricsListen != "" {
		if _, port, err := net.SplitHostPort(c.MetricsListen); err != nil || port == "" {
			return fmt.Errorf("metrics_listen: %q is not host:port (for example 127.0.0.1:9108)", c.MetricsListen)
		}
		if c.MetricsListen == c.Listen {
			return fmt.Errorf("metrics_listen: %q is also listen; leave metrics_listen empty to serve /metrics on the main port to admins", c.MetricsListen)
		}
	}
	for _, f := range []struct{ name, v string }{{"db_path", c.DBPath}, {"job_storage_root", c.JobStorageRoot}, {"launcher_path", c.LauncherPath}} {
		if f.v == "" {
			return fmt.Errorf("%s: required", f.name)
		}
	}
	if err := c.checkRuntime(); err != nil {
		return err
	}
	if c.MinUID < 0 {
		return fmt.Errorf("min_uid: %d is negative; give the lowest uid of a person's account (default %d)", c.MinUID, DefaultMinUID)
	}
	d, err := time.ParseDuration(c.ReconcileInterval)
	if err != nil || d <= 0 {
		return fmt.Errorf("reconcile_interval: %q is not a positive duration", c.ReconcileInterval)
	}
	c.Interval = d
	if c.Capacity, err = time.ParseDuration(c.CapacityInterval); err != nil || c.Capacity <= 0 {
		return fmt.Errorf("capacity_interval: %q is not a positive duration", c.CapacityInterval)
	}
	if c.Heartbeat, err = time.ParseDuration(c.HeartbeatInterval); err != nil || c.Heartbeat < time.Second {
		return fmt.Errorf("heartbeat_interval: %q is not a duration of 1s or more", c.HeartbeatInterval)
	}
	if c.NotebookTimeout != "" {
		if d, err := time.ParseDuration(c.NotebookTimeout); err != nil || d < 0 {
			return fmt.Errorf("notebook_timeout: %q is not a duration (e.g. 30m)", c.NotebookTimeout)
		}
	}
	if c.MinIdleTimeout != "" {
		if c.MinIdle, err = time.ParseDuration(c.MinIdleTimeout); err != nil || c.MinIdle < 0 {
			return fmt.Errorf("min_idle_timeout: %q is not a duration (e.g. 5m)", c.MinIdleTimeout)
		}
	}
	if err := c.checkProxyModes(); err != nil {
		return err
	}
	if err := c.checkAuditRetention(); err != nil {
		return err
	}
	if err := c.checkPasswordChangeLoginWithin(); err != nil {
		return err
	}
	if err := c.checkClusters(); err != nil {
		return err
	}
	if len(c.ResourcePools) == 0 && !c.AutoPools {
		return errors.New("resource_pools: at least one pool is required (or auto_pools: true)")
	}
	seen := map[string]bool{}
	for i, p := range c.ResourcePools {
		switch {
		case p.Name == "":
			return fmt.Errorf("resource_pools[%d].name: required", i)
		case seen[p.Name]:
			return fmt.Errorf("resource_pools[%d].name: %q is listed twice", i, p.Name)
		case p.Partition == "":
			return fmt.Errorf("resource_pools[%d].partition: required for pool %q", i, p.Name)
		}
		seen[p.Name] = true
		if err := c.ResourcePools[i].checkExtensions(i); err != nil {
			return err
		}
	}
	for _, f := range []struct{ name, v string }{{"default_compute_pool", c.DefaultComputePool}, {"default_aux_pool", c.DefaultAuxPool}} {
		if f.v != "" && !seen[f.v] {
			return fmt.Errorf("%s: no resource pool is named %q", f.name, f.v)
		}
	}
	return nil
}

// Pool returns the pool with the given name.
func (c *Config) Pool(name string) (*Pool, bool) {
	for i := range c.ResourcePools {
		if c.ResourcePools[i].Name == name {
			return &c.ResourcePools[i], true
		}
	}
	return nil, false
}

// PoolNames lists the pools' names in config order.
func (c *Config) PoolNames() []string {
	var n []string
	for _, p := range c.ResourcePools {
		n = append(n, p.Name)
	}
	return n
}

// DefaultPool returns the pool a notebook without resource_pool goes to:
// the compute pool when it asks for GPUs, else the aux pool. When these
// are not set, the first pool with GPUs and the first pool serve.
func (c *Config) DefaultPool(slots int) string {
	if slots > 0 {
		if c.DefaultComputePool != "" {
			return c.DefaultComputePool
		}
		for _, p := range c.ResourcePools {
			if p.GPU.Gres != "" {
				return p.Name
			}
		}
	}
	if c.DefaultAuxPool != "" {
		return c.DefaultAuxPool
	}
	return c.ResourcePools[0].Name
}

// MissingPaths lists the configured paths that do not exist on this host
// (the database's folder, the job storage root, the launcher, the CLI, the
// runtime binary, the default images and the bind prefixes).
func (c *Config) MissingPaths() []string {
	var missing []string
	check := func(field, p string) {
		if p == "" {
			return
		}
		if !filepath.IsAbs(p) {
			if _, err := exec.LookPath(p); err != nil {
				missing = append(missing, fmt.Sprintf("%s: %s is not on PATH", field, p))
			}
			return
		}
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, fmt.Sprintf("%s: %s does not exist", field, p))
		}
	}
	if c.DBPath != "" {
		check("db_path (its folder's parent; the bridge makes the folder)", filepath.Dir(filepath.Dir(c.DBPath)))
	}
	check("job_storage_root", c.JobStorageRoot)
	check("shared_fs_path", c.SharedFSPath)
	check("launcher_path", c.LauncherPath)
	check("cli_path", c.CLIPath)
	if c.ContainerRuntime.Capabilities().Isolated {
		check("container_runtime.binary", c.ContainerRuntime.Binary)
		check("default_images.cpu", c.DefaultImages.CPU)
		check("default_images.cuda", c.DefaultImages.CUDA)
	}
	for i, p := range c.AllowedBindPrefixes {
		check(fmt.Sprintf("allowed_bind_prefixes[%d]", i), p)
	}
	for _, k := range c.slurmrestdKeys() {
		check("slurmrestd.jwt_key", *k)
	}
	return missing
}
