package bridge

import (
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

// setupPools settles the site's pools against each cluster's nodes
// (package siteconfig) and puts them into the bridge's config.
func (s *Server) setupPools(nodes map[string][]slurm.Node) error {
	settled, err := siteconfig.SettleClusterPools(s.cfg, nodes)
	if err != nil {
		return err
	}
	settled.Apply(s.cfg)
	for _, name := range settled.Added {
		s.log.Info("added a pool for a Slurm partition not in the site config", "pool", name)
	}
	return nil
}

// defaultPool is the pool for a notebook that names none.
func (s *Server) defaultPool(slots int) string {
	if slots > 0 && s.cfg.DefaultComputePool != "" {
		return s.cfg.DefaultComputePool
	}
	if slots == 0 && s.cfg.DefaultAuxPool != "" {
		return s.cfg.DefaultAuxPool
	}
	return s.cfg.DefaultPool(slots)
}
