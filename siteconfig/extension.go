package siteconfig

import (
	"fmt"
	"time"

	"github.com/det-slurm/bridge/slurm"
)

// checkExtensions parses the pool's extension policy (max_walltime,
// max_extensions); i is its index in resource_pools.
func (p *Pool) checkExtensions(i int) error {
	if p.MaxExtensions < 0 {
		return fmt.Errorf("resource_pools[%d].max_extensions: %d is negative; 0 means no bound but max_walltime", i, p.MaxExtensions)
	}
	if p.MaxWalltime == "" {
		if p.MaxExtensions > 0 {
			return fmt.Errorf("resource_pools[%d].max_extensions: pool %q has no max_walltime, so its notebooks cannot be extended at all; set max_walltime too", i, p.Name)
		}
		return nil
	}
	d, err := slurm.ParseTimeLimit(p.MaxWalltime)
	if err != nil {
		return fmt.Errorf("resource_pools[%d].max_walltime: %v", i, err)
	}
	if d < time.Minute {
		return fmt.Errorf("resource_pools[%d].max_walltime: %q is less than a minute, Slurm's smallest time limit", i, p.MaxWalltime)
	}
	p.MaxWalltimeLimit = d
	return nil
}
