package siteconfig

import (
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/det-slurm/bridge/runtimes"
)

// resourceManager is the resource_manager section of a master.yaml.
type resourceManager struct {
	f                  field
	jobStorageRoot     setting[string]
	runType            setting[string]
	imageRoot          setting[string]
	slotType           setting[string]
	gres               setting[bool]
	defCompute, defAux setting[string]
	path, ldPath       setting[string]
	masterHost         setting[string]
	masterPort         setting[int]
	overrides          []*partitionOverride
}

// partitionOverride is one entry of resource_manager.partition_overrides.
type partitionOverride struct {
	partition   string
	f           field
	description setting[string]
	slotType    setting[string]
	tcd         *containerDefaults
}

// launcherOnly is why the fields that only drive Determined's launcher
// mean nothing here.
const launcherOnly = "drives Determined's launcher"

func (m *master) readResourceManager(f field) error {
	rm := &resourceManager{f: f}
	rm.gres.v = true
	m.rm = rm
	typ, err := str(field{path: f.path + ".type", v: child(f.v, "type")})
	switch {
	case err != nil:
		return err
	case typ == "":
		return errAt(f.line, "resource_manager.type: required; the bridge maps a master.yaml whose resource_manager has type: slurm")
	case typ != "slurm":
		return errAt(deref(child(f.v, "type")).Line, "resource_manager.type: %s: the bridge drives Slurm only (type: slurm)", typ)
	}
	hs := handlers{
		"type": func(g field) error {
			m.note(g, "the bridge's own: it drives Slurm")
			return nil
		},
		"job_storage_root":              strInto(&rm.jobStorageRoot),
		"container_run_type":            strInto(&rm.runType),
		"singularity_image_root":        m.imageRootInto(rm),
		"apptainer_image_root":          m.imageRootInto(rm),
		"slot_type":                     slotTypeInto(&rm.slotType),
		"default_compute_resource_pool": strInto(&rm.defCompute),
		"default_aux_resource_pool":     strInto(&rm.defAux),
		"path":                          strInto(&rm.path),
		"ld_library_path":               strInto(&rm.ldPath),
		"master_host":                   strInto(&rm.masterHost),
		"master_port": func(g field) error {
			v, err := integer(g)
			rm.masterPort.put(v, g)
			return err
		},
		"gres_supported": func(g field) error {
			v, err := boolean(g, true)
			rm.gres.put(v, g)
			return err
		},
		"tres_supported": func(g field) error {
			if _, err := boolean(g, true); err != nil {
				return err
			}
			m.note(g, "unused (the bridge asks for GPUs with --gres, with or without select/cons_tres)")
			return nil
		},
		"partition_overrides":          m.readOverrides,
		"rendezvous_network_interface": m.unused("distributed training; a notebook runs on one node"),
		"proxy_network_interface":      m.unused("the bridge reaches notebooks at the address Slurm gives their node"),
		"user_name":                    m.unused(launcherOnly + "; the bridge submits as each user's linked POSIX account"),
		"group_name":                   m.unused(launcherOnly),
		"host":                         m.unused(launcherOnly),
		"port":                         m.unused(launcherOnly),
		"protocol":                     m.unused(launcherOnly),
		"security":                     m.unused(launcherOnly),
		"auth_file":                    m.unused(launcherOnly),
		"sudo_authorized":              m.unused(launcherOnly),
		"job_project_source":           m.unused(launcherOnly),
		"name":                         m.unused("the bridge drives one resource manager"),
		"metadata":                     m.unused("the bridge drives one resource manager"),
	}
	return walk(f, hs, func(key string) func(field) error {
		if strings.HasPrefix(key, "launcher_") {
			return m.unused(launcherOnly)
		}
		return nil
	})
}

// strInto reads a string setting.
func strInto(s *setting[string]) func(field) error {
	return func(f field) error {
		v, err := str(f)
		s.put(v, f)
		return err
	}
}

// slotTypeInto reads a slot_type: cuda (gpu, its old name), cpu, or rocm,
// which the bridge cannot run.
func slotTypeInto(s *setting[string]) func(field) error {
	return func(f field) error {
		v, err := str(f)
		if err != nil {
			return err
		}
		switch v {
		case "cuda", "gpu":
			s.put("cuda", f)
		case "cpu":
			s.put(v, f)
		case "rocm":
			return errAt(f.line, "%s: rocm: the bridge runs containers with NVIDIA GPUs only (--nv); use cuda or cpu", f.path)
		default:
			return errAt(f.line, "%s: %q is not one of cuda, cpu", f.path, v)
		}
		return nil
	}
}

// imageRootInto reads singularity_image_root or apptainer_image_root, which
// Determined does not let a file set both of.
func (m *master) imageRootInto(rm *resourceManager) func(field) error {
	return func(f field) error {
		if rm.imageRoot.set() {
			return errAt(f.line, "%s: %s is set too; give one of them", f.path, rm.imageRoot.f.path)
		}
		v, err := str(f)
		rm.imageRoot.put(v, f)
		return err
	}
}

func (m *master) readOverrides(f field) error {
	n := deref(f.v)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return errAt(n.Line, "%s: want a mapping of partition names", f.path)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		o := &partitionOverride{partition: k.Value, f: field{path: f.path + "." + k.Value, line: k.Line, v: n.Content[i+1]}}
		for _, prev := range m.rm.overrides {
			if strings.EqualFold(prev.partition, o.partition) {
				return errAt(k.Line, "%s: partition %s is overridden twice (names are case-insensitive)", o.f.path, prev.partition)
			}
		}
		err := walk(o.f, handlers{
			"description": strInto(&o.description),
			"slot_type":   slotTypeInto(&o.slotType),
			"task_container_defaults": func(g field) (err error) {
				o.tcd, err = m.readDefaults(g)
				return err
			},
			"rendezvous_network_interface": m.unused("distributed training; a notebook runs on one node"),
			"proxy_network_interface":      m.unused("the bridge reaches notebooks at the address Slurm gives their node"),
		}, nil)
		if err != nil {
			return err
		}
		m.rm.overrides = append(m.rm.overrides, o)
	}
	return nil
}

// buildResourceManager maps the resource manager's own settings: the job
// storage root, the container runtime, the folder of images and the
// environment of the Slurm commands.
func (m *master) buildResourceManager() error {
	rm, c := m.rm, m.c
	if !rm.jobStorageRoot.set() || rm.jobStorageRoot.v == "" {
		return errAt(rm.f.line, "resource_manager.job_storage_root: required (the shared folder where jobs keep their files)")
	}
	c.JobStorageRoot = m.abs(rm.jobStorageRoot.v)
	m.note(rm.jobStorageRoot.f, "job_storage_root = %s", c.JobStorageRoot)
	if err := m.buildRuntime(); err != nil {
		return err
	}
	if rm.imageRoot.set() && rm.imageRoot.v != "" {
		rm.imageRoot.v = m.abs(rm.imageRoot.v)
		m.note(rm.imageRoot.f, "images named without a folder are taken from %s", rm.imageRoot.v)
	}
	for _, e := range []struct {
		s    setting[string]
		name string
	}{{rm.path, "PATH"}, {rm.ldPath, "LD_LIBRARY_PATH"}} {
		if !e.s.set() || e.s.v == "" {
			continue
		}
		shown := m.searchPath(e.s.v, e.name)
		if c.SlurmEnv == nil {
			c.SlurmEnv = map[string]string{}
		}
		c.SlurmEnv[e.name] = expandOwn(shown, e.name)
		m.note(e.s.f, "slurm_env.%s = %s (what Slurm's commands and the jobs get)", e.name, shown)
	}
	if !rm.path.set() || !m.findRuntime() {
		m.note(field{}, "container_runtime.binary = %s (looked for on PATH)", c.ContainerRuntime.Type)
	}
	return nil
}

// buildRuntime maps container_run_type: singularity (Determined's name for
// Apptainer too) or apptainer; podman and enroot are not runtimes here.
func (m *master) buildRuntime() error {
	rm, c := m.rm, m.c
	typ := rm.runType.v
	switch typ {
	case "", "singularity":
		typ = runtimes.Singularity
		if strings.HasSuffix(rm.imageRoot.f.path, "apptainer_image_root") {
			typ = runtimes.Apptainer
		}
	case "apptainer":
		typ = runtimes.Apptainer
	default:
		if caps, ok := runtimes.For(typ); !ok || !caps.Isolated {
			return errAt(rm.runType.f.line, "resource_manager.container_run_type: %s is not a container runtime the bridge can run (it runs %s)", typ, strings.Join(containerRuntimes(), ", "))
		}
	}
	c.ContainerRuntime.Type = typ
	if rm.runType.set() {
		m.note(rm.runType.f, "container_runtime.type = %s", typ)
	} else if typ == runtimes.Apptainer {
		m.note(field{}, "container_runtime.type = %s (no container_run_type, and the image root is apptainer_image_root)", typ)
	} else {
		m.note(field{}, "container_runtime.type = %s (Determined's default container_run_type)", typ)
	}
	return nil
}

// searchPath makes the relative folders of a PATH-like value relative to
// the file's folder; a leading NAME= (as Determined's examples write it)
// goes. $NAME and ${NAME} stay, to be expanded.
func (m *master) searchPath(v, name string) string {
	v = strings.TrimPrefix(v, name+"=")
	parts := strings.Split(v, ":")
	for i, p := range parts {
		if p != "" && !strings.HasPrefix(p, "$") {
			parts[i] = m.abs(p)
		}
	}
	return strings.Join(parts, ":")
}

// expandOwn expands $NAME and ${NAME} with the bridge's own value of the
// variable; other variables stay as written.
func expandOwn(v, name string) string {
	return os.Expand(v, func(k string) string {
		if k == name {
			return os.Getenv(name)
		}
		return "${" + k + "}"
	})
}

// findRuntime takes the runtime's binary from the first folder of
// resource_manager.path that holds it on this host, as Determined's
// launcher finds it, and says whether one did.
func (m *master) findRuntime() bool {
	c := m.c
	for _, dir := range strings.Split(m.searchPath(m.rm.path.v, "PATH"), ":") {
		if dir == "" || strings.HasPrefix(dir, "$") {
			continue
		}
		bin := filepath.Join(dir, c.ContainerRuntime.Type)
		if st, err := os.Stat(bin); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			c.ContainerRuntime.Binary = bin
			m.note(m.rm.path.f, "container_runtime.binary = %s (found there)", bin)
			return true
		}
	}
	return false
}

// containerRuntimes names the runtimes of package runtimes that run an
// image, which container_run_type may name.
func containerRuntimes() []string {
	var out []string
	for _, n := range runtimes.Names() {
		if caps, _ := runtimes.For(n); caps.Isolated {
			out = append(out, n)
		}
	}
	return out
}
