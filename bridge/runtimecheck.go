package bridge

import (
	"github.com/det-slurm/bridge/runtimes"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/taskconfig"
)

// checkRuntime refuses, naming the field, a merged config that the site's
// container runtime cannot honour, judged by its capabilities: bind mounts
// on a runtime that cannot bind, GPUs on one that cannot expose them, and
// an image the user names for one that runs no image. (The site config
// cannot ask for binds such a runtime cannot make; see siteconfig.)
func checkRuntime(rt siteconfig.Runtime, cfg *taskconfig.Config, userCfg map[string]any) error {
	caps := rt.Capabilities()
	if len(cfg.BindMounts) > 0 && caps.Binds == runtimes.NoBinds {
		b := cfg.BindMounts[0]
		return badRequest("bind_mounts[0]: this site runs notebooks without a container (container runtime %s), so %s cannot be bound at %s; remove bind_mounts and use the host path itself",
			rt.Type, b.HostPath, b.ContainerPath)
	}
	if cfg.SlotCount() > 0 && !caps.GPU {
		return badRequest("resources.slots: container runtime %s cannot give a notebook GPUs; use resources.slots=0", rt.Type)
	}
	if !caps.Isolated && namesImage(userCfg) {
		return badRequest("environment.image: this site runs notebooks without a container (container runtime %s), so no image is used; remove environment.image", rt.Type)
	}
	return nil
}

// namesImage reports whether the user's own config names an image, as a
// string or as cpu/cuda.
func namesImage(userCfg map[string]any) bool {
	env, _ := userCfg["environment"].(map[string]any)
	switch img := env["image"].(type) {
	case string:
		return img != ""
	case map[string]any:
		for _, v := range img {
			if s, _ := v.(string); s != "" {
				return true
			}
		}
	}
	return false
}
