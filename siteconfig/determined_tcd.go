package siteconfig

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/det-slurm/bridge/taskconfig"
)

// containerDefaults is one task_container_defaults of a master.yaml: the
// top-level one, a partition override's or an hpc pool's.
type containerDefaults struct {
	f       field
	image   setting[Images]
	env     setting[[]string]
	binds   setting[[]any] // each {host_path, container_path, read_only}
	sbatch  setting[[]string]
	gpuType setting[string]
	workDir setting[string]
	checked bool
}

// unusedDefaults are the task_container_defaults fields that mean nothing
// for a notebook the bridge runs, with the reason check-config gives.
var unusedDefaults = map[string]string{
	"shm_size_bytes":           "a Docker setting",
	"network_mode":             "a Docker setting",
	"add_capabilities":         "a Docker setting",
	"drop_capabilities":        "a Docker setting",
	"devices":                  "a Docker setting",
	"cpu_pod_spec":             "a Kubernetes setting",
	"gpu_pod_spec":             "a Kubernetes setting",
	"checkpoint_gc_pod_spec":   "a Kubernetes setting",
	"kubernetes":               "a Kubernetes setting",
	"dtrain_network_interface": "distributed training; a notebook runs on one node",
	"nccl_port_range":          "distributed training; a notebook runs on one node",
	"gloo_port_range":          "distributed training; a notebook runs on one node",
	"registry_auth":            "images are files here: nothing is pulled",
	"force_pull_image":         "images are files here: nothing is pulled",
	"pbs":                      "the bridge drives Slurm, not PBS",
	"startup_hook":             "a notebook runs the startup-hook.sh of its context",
	"log_policies":             "experiments only",
	"preemption_timeout":       "notebooks are not preempted",
}

func (m *master) readDefaults(f field) (*containerDefaults, error) {
	t := &containerDefaults{f: f}
	hs := handlers{
		"image":                 func(g field) error { return m.readImage(g, t) },
		"environment_variables": func(g field) error { return m.readEnv(g, t) },
		"bind_mounts":           func(g field) error { return m.readBinds(g, t) },
		"work_dir":              strInto(&t.workDir),
		"slurm": func(g field) error {
			return walk(g, handlers{
				"sbatch_args": func(h field) error {
					v, err := strList(h)
					t.sbatch.put(v, h)
					return err
				},
				"gpu_type": strInto(&t.gpuType),
				"slots_per_node": func(h field) error {
					if _, err := integer(h); err != nil {
						return err
					}
					m.note(h, "unused (a notebook runs on one node; the pool's GPUs per node come from Slurm)")
					return nil
				},
			}, nil)
		},
	}
	for name, why := range unusedDefaults {
		hs[name] = m.unused(why)
	}
	return t, walk(f, hs, nil)
}

// readImage reads one image for all notebooks, or one per kind (cuda, its
// old name gpu, and cpu; rocm means nothing here).
func (m *master) readImage(f field, t *containerDefaults) error {
	if n := deref(f.v); n != nil && n.Kind == yaml.ScalarNode {
		v, err := str(f)
		t.image.put(Images{CPU: v, CUDA: v}, f)
		return err
	}
	var im Images
	err := walk(f, handlers{
		"cpu":  func(g field) (err error) { im.CPU, err = str(g); return err },
		"cuda": func(g field) (err error) { im.CUDA, err = str(g); return err },
		"gpu": func(g field) error {
			v, err := str(g)
			if im.CUDA == "" {
				im.CUDA = v
			}
			return err
		},
		"rocm": m.unused("ROCm GPUs are not run here"),
	}, nil)
	t.image.put(im, f)
	return err
}

// readEnv reads the environment variables: one list, or per kind lists
// that are the same (the bridge sets one list for every notebook).
func (m *master) readEnv(f field, t *containerDefaults) error {
	if n := deref(f.v); n == nil || n.Kind != yaml.MappingNode {
		v, err := strList(f)
		t.env.put(v, f)
		return err
	}
	var cpu, cuda setting[[]string]
	into := func(s *setting[[]string]) func(field) error {
		return func(g field) error {
			v, err := strList(g)
			if !s.set() {
				s.put(v, g)
			}
			return err
		}
	}
	hs := handlers{"cpu": into(&cpu), "cuda": into(&cuda), "gpu": into(&cuda), "rocm": m.unused("ROCm GPUs are not run here")}
	if err := walk(f, hs, nil); err != nil {
		return err
	}
	switch {
	case !cpu.set() && !cuda.set():
	case cpu.set() && cuda.set() && slices.Equal(cpu.v, cuda.v):
		t.env.put(cpu.v, f)
	default:
		return errAt(f.line, "%s: the bridge sets one list of environment variables for CPU and GPU notebooks alike; give one list", f.path)
	}
	return nil
}

func (m *master) readBinds(f field, t *containerDefaults) error {
	its, err := items(f)
	if err != nil {
		return err
	}
	binds := make([]any, 0, len(its))
	for _, it := range its {
		var host, ctr string
		ro := false
		err := walk(it, handlers{
			"host_path":      func(g field) (err error) { host, err = str(g); return err },
			"container_path": func(g field) (err error) { ctr, err = str(g); return err },
			"read_only":      func(g field) (err error) { ro, err = boolean(g, false); return err },
			"propagation":    m.unused("Apptainer binds with the host's propagation"),
		}, nil)
		if err != nil {
			return err
		}
		if host == "" || ctr == "" {
			return errAt(it.line, "%s: host_path and container_path are required", it.path)
		}
		binds = append(binds, map[string]any{"host_path": host, "container_path": ctr, "read_only": ro})
	}
	t.binds.put(binds, f)
	return nil
}

// layer turns a task_container_defaults into task config fields (with the
// image when image is set) and notes each, as prefix+field, with dest. The
// host folders it binds join allowed_bind_prefixes.
func (m *master) layer(t *containerDefaults, image bool, prefix string, dest func(field, string)) (map[string]any, error) {
	out, env := map[string]any{}, map[string]any{}
	if image && t.image.set() {
		im, err := m.images(t.image)
		if err != nil {
			return nil, err
		}
		img := map[string]any{}
		if im.CPU != "" {
			img["cpu"] = im.CPU
		}
		if im.CUDA != "" {
			img["cuda"] = im.CUDA
		}
		env["image"] = img
		dest(t.image.f, fmt.Sprintf("%senvironment.image = cpu %s, cuda %s", prefix, orNone(im.CPU), orNone(im.CUDA)))
	}
	if t.env.set() {
		env["environment_variables"] = anyList(t.env.v)
		dest(t.env.f, prefix+"environment.environment_variables = "+joinList(t.env.v))
	}
	if len(env) > 0 {
		out["environment"] = env
	}
	if t.binds.set() {
		out["bind_mounts"] = t.binds.v
		var shown []string
		for _, b := range t.binds.v {
			bm := b.(map[string]any)
			s := fmt.Sprintf("%s:%s", bm["host_path"], bm["container_path"])
			if bm["read_only"] == true {
				s += ":ro"
			}
			shown = append(shown, s)
			if p := filepath.Clean(bm["host_path"].(string)); !slices.Contains(m.c.AllowedBindPrefixes, p) {
				m.c.AllowedBindPrefixes = append(m.c.AllowedBindPrefixes, p)
			}
		}
		dest(t.binds.f, prefix+"bind_mounts = "+joinList(shown)+" (their host folders join allowed_bind_prefixes)")
	}
	if t.workDir.set() {
		out["work_dir"] = t.workDir.v
		dest(t.workDir.f, prefix+"work_dir = "+t.workDir.v)
	}
	if err := m.check(t); err != nil {
		return nil, err
	}
	return out, nil
}

// check validates a layer once, each field as a notebook config would
// hold it, so that a mistake is named with its field and line before any
// notebook meets it.
func (m *master) check(t *containerDefaults) error {
	if t.checked {
		return nil
	}
	t.checked = true
	parts := []struct {
		f      field
		ours   string // the field's path in a notebook config
		fields map[string]any
	}{
		{t.env.f, "environment.environment_variables", map[string]any{"environment": map[string]any{"environment_variables": anyList(t.env.v)}}},
		{t.binds.f, "bind_mounts", map[string]any{"bind_mounts": t.binds.v}},
		{t.workDir.f, "work_dir", map[string]any{"work_dir": t.workDir.v}},
		{t.sbatch.f, "slurm.sbatch_args", map[string]any{"slurm": map[string]any{"sbatch_args": anyList(t.sbatch.v)}}},
		{t.gpuType.f, "slurm.gpu_type", map[string]any{"slurm": map[string]any{"gpu_type": t.gpuType.v}}},
	}
	for _, p := range parts {
		if p.f.path == "" {
			continue
		}
		cfg, err := taskconfig.Decode(p.fields)
		if err == nil {
			err = cfg.Validate()
		}
		var fe *taskconfig.FieldError
		switch {
		case errors.As(err, &fe) && strings.HasPrefix(fe.Path, p.ours):
			return errAt(p.f.line, "%s%s: %s", p.f.path, strings.TrimPrefix(fe.Path, p.ours), fe.Msg)
		case err != nil:
			return errAt(p.f.line, "%s: %v", p.f.path, err)
		}
	}
	return nil
}

// images resolves the images of a layer: an absolute path stays, a name
// is looked for in the resource manager's image root. Registry images
// cannot run here: the bridge runs image files.
func (m *master) images(s setting[Images]) (Images, error) {
	var out Images
	for _, e := range []struct {
		in  string
		out *string
	}{{s.v.CPU, &out.CPU}, {s.v.CUDA, &out.CUDA}} {
		if e.in == "" {
			continue
		}
		switch root := m.rm.imageRoot; {
		case strings.Contains(e.in, "://"):
			return out, errAt(s.f.line, "%s: %q is a registry image, and the bridge runs image files only: give the absolute path of a SIF file or sandbox folder", s.f.path, e.in)
		case filepath.IsAbs(e.in):
			*e.out = filepath.Clean(e.in)
		case root.v != "":
			*e.out = filepath.Join(root.v, e.in)
		default:
			return out, errAt(s.f.line, "%s: %q has no folder, and resource_manager has no apptainer_image_root (or singularity_image_root) to find it in: give the absolute path of a SIF file or sandbox folder, or set the image root", s.f.path, e.in)
		}
	}
	return out, nil
}

// buildSiteDefaults maps the top-level task_container_defaults: its image
// becomes default_images, the rest the site's task_container_defaults.
func (m *master) buildSiteDefaults() error {
	t, c := m.tcd, m.c
	if t == nil {
		return nil
	}
	if t.image.set() {
		im, err := m.images(t.image)
		if err != nil {
			return err
		}
		c.DefaultImages = im
		m.note(t.image.f, "default_images.cpu = %s, default_images.cuda = %s", orNone(im.CPU), orNone(im.CUDA))
	}
	fields, err := m.layer(t, false, "task_container_defaults.", func(f field, what string) { m.note(f, "%s", what) })
	if err != nil {
		return err
	}
	if t.sbatch.set() {
		fields["slurm"] = map[string]any{"sbatch_args": anyList(t.sbatch.v)}
		m.note(t.sbatch.f, "task_container_defaults.slurm.sbatch_args = %s (a user's own sbatch_args replace them)", joinList(t.sbatch.v))
	}
	if len(fields) > 0 {
		c.TaskContainerDefaults = fields
	}
	return nil
}

func anyList(v []string) []any {
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
