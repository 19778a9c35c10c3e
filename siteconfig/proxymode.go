package siteconfig

import (
	"fmt"

	"github.com/det-slurm/bridge/jobspec"
)

// checkProxyModes fills in the site's proxy_mode (tunnel unless set) and
// refuses a value, at the top level or on a pool, that is not a mode.
// A pool without one takes the site's.
func (c *Config) checkProxyModes() error {
	if c.ProxyMode == "" {
		c.ProxyMode = jobspec.ProxyModeTunnel
	}
	if !validProxyMode(c.ProxyMode) {
		return fmt.Errorf("proxy_mode: %q is not %s or %s", c.ProxyMode, jobspec.ProxyModeTunnel, jobspec.ProxyModeDirect)
	}
	for i, p := range c.ResourcePools {
		if p.ProxyMode != "" && !validProxyMode(p.ProxyMode) {
			return fmt.Errorf("resource_pools[%d].proxy_mode: %q (pool %q) is not %s or %s", i, p.ProxyMode, p.Name, jobspec.ProxyModeTunnel, jobspec.ProxyModeDirect)
		}
	}
	return nil
}

func validProxyMode(m string) bool {
	return m == jobspec.ProxyModeTunnel || m == jobspec.ProxyModeDirect
}

// ProxyModeOf is how the notebooks and shells of pool p are reached: the
// pool's proxy_mode, else the site's.
func (c *Config) ProxyModeOf(p *Pool) string {
	if p != nil && p.ProxyMode != "" {
		return p.ProxyMode
	}
	if c.ProxyMode == "" {
		return jobspec.ProxyModeTunnel
	}
	return c.ProxyMode
}

// SetProxyMode sets the site's proxy_mode (as det-bridge --proxy-mode
// does); pools that set their own keep it.
func (c *Config) SetProxyMode(mode string) error {
	if !validProxyMode(mode) {
		return fmt.Errorf("%q is not %s or %s", mode, jobspec.ProxyModeTunnel, jobspec.ProxyModeDirect)
	}
	c.ProxyMode = mode
	return nil
}
