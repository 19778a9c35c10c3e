package siteconfig

import (
	"slices"
	"strings"

	"github.com/det-slurm/bridge/taskconfig"
)

// hpcPool is one entry of a master.yaml's resource_pools: a pool with
// provider type hpc, on a Slurm partition.
type hpcPool struct {
	f           field
	name        setting[string]
	description setting[string]
	partition   setting[string]
	tcd         *containerDefaults
}

// poolNote gathers the pools one field went to, for one line.
type poolNote struct {
	f     field
	what  string
	pools []string
}

func (m *master) readPools(f field) error {
	its, err := items(f)
	if err != nil {
		return err
	}
	for _, it := range its {
		p := &hpcPool{f: it}
		err := walk(it, handlers{
			"pool_name":   strInto(&p.name),
			"description": strInto(&p.description),
			"provider":    func(g field) error { return readProvider(g, p) },
			"task_container_defaults": func(g field) (err error) {
				p.tcd, err = m.readDefaults(g)
				return err
			},
			"max_aux_containers_per_agent": m.unused("a Determined agent setting"),
			"max_cpu_containers_per_agent": m.unused("a Determined agent setting"),
			"agent_reattach_enabled":       m.unused("a Determined agent setting"),
			"agent_reconnect_wait":         m.unused("a Determined agent setting"),
			"kubernetes_namespace":         m.unused("a Kubernetes setting"),
			"scheduler":                    m.unused("Slurm schedules the jobs"),
		}, nil)
		switch {
		case err != nil:
			return err
		case p.name.v == "":
			return errAt(it.line, "%s.pool_name: required", it.path)
		case p.partition.v == "":
			return errAt(it.line, "%s.provider: required, as {type: hpc, partition: NAME}", it.path)
		}
		for _, q := range m.pools {
			if q.name.v == p.name.v {
				return errAt(p.name.f.line, "%s: %s is the name of resource_pools entry %s too", p.name.f.path, p.name.v, q.f.path)
			}
		}
		m.pools = append(m.pools, p)
	}
	return nil
}

// readProvider reads a pool's provider, which on Slurm must be of type hpc.
func readProvider(f field, p *hpcPool) error {
	typ, err := str(field{path: f.path + ".type", v: child(f.v, "type")})
	if err != nil {
		return err
	}
	if typ != "hpc" {
		return errAt(f.line, "%s.type: %q: on Slurm a resource pool's provider is {type: hpc, partition: NAME}", f.path, typ)
	}
	return walk(f, handlers{
		"type":      func(field) error { return nil },
		"partition": strInto(&p.partition),
	}, nil)
}

// buildPools makes the pools: as in Determined, every Slurm partition is a
// pool of its own (auto_pools; the partitions the file names are listed
// so that their overrides apply), and each hpc pool is one more.
func (m *master) buildPools() error {
	c, rm := m.c, m.rm
	c.AutoPools = true
	m.note(field{}, "auto_pools = true (every Slurm partition is a pool of its own, as in Determined)")
	if rm.gres.set() {
		if rm.gres.v {
			m.note(rm.gres.f, "GPUs are asked of Slurm as GRES gpu (--gres=gpu[:TYPE]:N)")
		} else {
			m.note(rm.gres.f, "every pool has no GPUs (the bridge asks Slurm for GPUs only as GRES)")
		}
	}
	// An hpc pool named as a partition is that partition's pool: it takes
	// the partition's overrides and then its own defaults.
	hpc := func(name string) *hpcPool {
		for _, p := range m.pools {
			if p.name.v == name {
				return p
			}
		}
		return nil
	}
	names := []string{}
	for _, o := range rm.overrides {
		if p := hpc(o.partition); p != nil && !strings.EqualFold(p.partition.v, o.partition) {
			return errAt(p.name.f.line, "%s: %s is the name of partition %s's pool (in %s); name the pool otherwise", p.name.f.path, p.name.v, o.partition, o.f.path)
		}
		names = append(names, o.partition)
	}
	for _, p := range m.pools {
		names = append(names, p.partition.v)
	}
	names = append(names, rm.defCompute.v, rm.defAux.v)
	for _, name := range names {
		if name == "" || hpc(name) != nil || slices.ContainsFunc(c.ResourcePools, func(p Pool) bool { return strings.EqualFold(p.Name, name) }) {
			continue
		}
		if err := m.partitionPool(name, m.override(name)); err != nil {
			return err
		}
	}
	for _, p := range m.pools {
		if err := m.hpcPool(p); err != nil {
			return err
		}
	}
	for _, d := range []struct {
		s    setting[string]
		ours *string
		name string
	}{{rm.defCompute, &c.DefaultComputePool, "default_compute_pool"}, {rm.defAux, &c.DefaultAuxPool, "default_aux_pool"}} {
		if d.s.v != "" {
			*d.ours = d.s.v
			m.note(d.s.f, "%s = %s", d.name, d.s.v)
		}
	}
	if t := m.tcd; t != nil && t.gpuType.set() && !m.notedPool(t.gpuType.f) {
		m.note(t.gpuType.f, "unused (no pool listed here has GPUs; the pool of a partition found at start asks for the GPU type Slurm reports)")
	}
	m.notePools()
	return nil
}

// notedPool says whether a field went to some pool.
func (m *master) notedPool(f field) bool {
	for _, n := range m.poolNotesList {
		if n.f.path == f.path {
			return true
		}
	}
	return false
}

// override returns the partition_overrides entry of a partition (names
// are case-insensitive, as in Determined), or nil.
func (m *master) override(partition string) *partitionOverride {
	for _, o := range m.rm.overrides {
		if strings.EqualFold(o.partition, partition) {
			return o
		}
	}
	return nil
}

// partitionPool adds the pool of a Slurm partition, with its overrides.
func (m *master) partitionPool(name string, o *partitionOverride) error {
	p := Pool{Name: name, Partition: name, Description: "Slurm partition " + name}
	var layers []*containerDefaults
	if o != nil {
		layers = append(layers, o.tcd)
		if o.description.set() {
			p.Description = o.description.v
			m.notePool(o.description.f, name, "description = "+p.Description)
		}
	}
	m.poolGPU(&p, o, layers...)
	if err := m.poolDefaults(&p, layers...); err != nil {
		return err
	}
	m.c.ResourcePools = append(m.c.ResourcePools, p)
	return nil
}

// hpcPool adds a resource_pools entry: its partition's overrides, then
// its own defaults.
func (m *master) hpcPool(hp *hpcPool) error {
	o := m.override(hp.partition.v)
	p := Pool{Name: hp.name.v, Partition: hp.partition.v, Description: hp.description.v}
	m.notePool(hp.name.f, p.Name, "name = "+p.Name)
	m.notePool(hp.partition.f, p.Name, "partition = "+p.Partition)
	switch {
	case hp.description.set():
		m.notePool(hp.description.f, p.Name, "description = "+p.Description)
	case o != nil && o.description.set() && strings.EqualFold(p.Name, o.partition):
		// The partition's own pool, named so in resource_pools.
		p.Description = o.description.v
		m.notePool(o.description.f, p.Name, "description = "+p.Description)
	}
	var layers []*containerDefaults
	if o != nil {
		layers = append(layers, o.tcd)
	}
	layers = append(layers, hp.tcd)
	m.poolGPU(&p, o, layers...)
	if err := m.poolDefaults(&p, layers...); err != nil {
		return err
	}
	m.c.ResourcePools = append(m.c.ResourcePools, p)
	return nil
}

// poolGPU decides a pool's GPUs: the partition's slot_type, else the
// resource manager's, else what Slurm reports when the bridge starts; the
// GPU type is the last gpu_type of the site's defaults and the layers.
func (m *master) poolGPU(p *Pool, o *partitionOverride, layers ...*containerDefaults) {
	rm := m.rm
	slot := rm.slotType
	if o != nil && o.slotType.set() {
		slot = o.slotType
	}
	switch {
	case !rm.gres.v:
	case slot.v == "cuda":
		p.GPU.Gres = "gpu"
		m.notePool(slot.f, p.Name, "gpu.gres = gpu")
	case slot.v == "cpu":
		m.notePool(slot.f, p.Name, "no GPUs")
	default:
		p.GPUFromSlurm = true
		m.notePool(field{}, p.Name, "GPUs as Slurm reports them (GRES gpu when the partition has GPUs)")
	}
	var last *containerDefaults
	for _, t := range append([]*containerDefaults{m.tcd}, layers...) {
		if t != nil && t.gpuType.set() {
			last = t
		}
	}
	if last != nil && (p.GPU.Gres != "" || p.GPUFromSlurm) {
		p.GPU.Type = last.gpuType.v
		m.notePool(last.gpuType.f, p.Name, "gpu.type = "+p.GPU.Type)
	}
}

// poolDefaults lays a pool's task_container_defaults, in order, on its
// task_defaults; their sbatch_args add up to the pool's.
func (m *master) poolDefaults(p *Pool, layers ...*containerDefaults) error {
	for _, t := range layers {
		if t == nil {
			continue
		}
		fields, err := m.layer(t, true, "task_defaults.", func(f field, what string) { m.notePool(f, p.Name, what) })
		if err != nil {
			return err
		}
		if len(fields) > 0 {
			p.Defaults = taskconfig.Merge(p.Defaults, fields)
		}
		if t.sbatch.set() {
			p.SbatchArgs = append(p.SbatchArgs, t.sbatch.v...)
			m.notePool(t.sbatch.f, p.Name, "sbatch_args += "+joinList(t.sbatch.v)+" (the pool's policy)")
		}
	}
	return nil
}

// notePool records that a field went to a pool; the pools of one field
// and setting share a line.
func (m *master) notePool(f field, pool, what string) {
	for _, n := range m.poolNotesList {
		if n.f.path == f.path && n.what == what {
			n.pools = append(n.pools, pool)
			return
		}
	}
	m.poolNotesList = append(m.poolNotesList, &poolNote{f: f, what: what, pools: []string{pool}})
}

// notePools turns the pool notes into lines.
func (m *master) notePools() {
	for _, n := range m.poolNotesList {
		which := "pool "
		if len(n.pools) > 1 {
			which = "pools "
		}
		m.note(n.f, "%s%s: %s", which, strings.Join(n.pools, ", "), n.what)
	}
}
