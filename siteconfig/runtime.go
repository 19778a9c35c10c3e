package siteconfig

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/det-slurm/bridge/runtimes"
)

// Capabilities returns what the runtime can do (package runtimes' table);
// the zero value, which can do nothing, for a name that is not a runtime.
func (r Runtime) Capabilities() runtimes.Capabilities {
	caps, _ := runtimes.For(r.Type)
	return caps
}

// checkRuntime checks container_runtime and what the site asks of it:
// without bind support, no setting may promise a bind; with it, every
// folder the site binds, or lets users bind under, must be one path to
// the runtime's bind parser. It cleans allowed_bind_prefixes.
func (c *Config) checkRuntime() error {
	caps, ok := runtimes.For(c.ContainerRuntime.Type)
	switch {
	case !ok:
		return fmt.Errorf("container_runtime.type: %q is not one of %s", c.ContainerRuntime.Type, strings.Join(runtimes.Names(), ", "))
	case !caps.LiteralEnv:
		return fmt.Errorf("container_runtime.type: %s would let a shell evaluate environment values", c.ContainerRuntime.Type)
	}
	for i, p := range c.AllowedBindPrefixes {
		c.AllowedBindPrefixes[i] = filepath.Clean(p)
	}
	if caps.Binds == runtimes.NoBinds {
		return c.refuseBinds()
	}
	paths := []struct{ field, v string }{{"job_storage_root", c.JobStorageRoot}, {"shared_fs_path", c.SharedFSPath}, {"cli_path", c.CLIPath}}
	for i, p := range c.AllowedBindPrefixes {
		paths = append(paths, struct{ field, v string }{fmt.Sprintf("allowed_bind_prefixes[%d]", i), p})
	}
	for _, p := range paths {
		if p.v == "" {
			continue
		}
		if err := runtimes.CheckPath(p.v); err != nil {
			return fmt.Errorf("%s: %w", p.field, err)
		}
	}
	return nil
}

// refuseBinds refuses the settings that bind folders, for a runtime that
// runs on the node's own filesystem and can bind none.
func (c *Config) refuseBinds() error {
	why := fmt.Sprintf("container runtime %s runs notebooks on the node's own filesystem and cannot bind folders", c.ContainerRuntime.Type)
	if c.SharedFSPath != "" {
		return fmt.Errorf("shared_fs_path: %s; remove it (notebooks reach %s at its own path)", why, c.SharedFSPath)
	}
	if len(c.AllowedBindPrefixes) > 0 {
		return fmt.Errorf("allowed_bind_prefixes: %s; remove the list", why)
	}
	if _, ok := c.TaskContainerDefaults["bind_mounts"]; ok {
		return fmt.Errorf("task_container_defaults.bind_mounts: %s; remove them", why)
	}
	for i, p := range c.ResourcePools {
		if _, ok := p.Defaults["bind_mounts"]; ok {
			return fmt.Errorf("resource_pools[%d].task_defaults.bind_mounts: %s; remove them", i, why)
		}
	}
	return nil
}
