package siteconfig

import (
	"fmt"
	"strings"

	"github.com/det-slurm/bridge/slurm"
	"github.com/det-slurm/bridge/slurm/rest"
)

// Slurm interfaces a cluster may be reached through.
const (
	SlurmInterfaceCLI  = "cli"
	SlurmInterfaceREST = "rest"
)

// LocalClusterLabel names the login node's own cluster (a pool's cluster
// "") where a name is needed (metrics labels and the API) and Slurm did
// not say its ClusterName (Config.LocalClusterName). A cluster of
// clusters: may not take it.
const LocalClusterLabel = "local"

// Cluster is one more Slurm cluster the bridge submits to, besides the
// one the login node's slurm.conf names.
type Cluster struct {
	// Name is the cluster's ClusterName, as `sbatch -M` takes it.
	Name string `yaml:"name"`
	// SlurmInterface is how the bridge talks to it: cli (the Slurm
	// commands with -M <name>, the default) or rest (its own slurmrestd,
	// with Slurmrestd set).
	SlurmInterface string      `yaml:"slurm_interface"`
	Slurmrestd     *Slurmrestd `yaml:"slurmrestd"`
}

// checkClusters validates clusters: and every pool's cluster:.
func (c *Config) checkClusters() error {
	known := map[string]bool{}
	for i := range c.Clusters {
		cl := &c.Clusters[i]
		switch {
		case cl.Name == "":
			return fmt.Errorf("clusters[%d].name: required (the Slurm ClusterName, as -M takes it)", i)
		case !slurm.ValidClusterName(cl.Name):
			return fmt.Errorf("clusters[%d].name: %q is not a Slurm cluster name (letters, digits, - and _)", i, cl.Name)
		case cl.Name == LocalClusterLabel || cl.Name == "all":
			return fmt.Errorf("clusters[%d].name: %q is reserved; the login node's own cluster is not listed (its pools leave cluster empty)", i, cl.Name)
		case known[cl.Name]:
			return fmt.Errorf("clusters[%d].name: %q is listed twice", i, cl.Name)
		}
		known[cl.Name] = true
		if err := checkInterface(fmt.Sprintf("clusters[%d].", i), &cl.SlurmInterface, cl.Slurmrestd); err != nil {
			return err
		}
	}
	if err := checkInterface("", &c.SlurmInterface, c.Slurmrestd); err != nil {
		return err
	}
	for i, p := range c.ResourcePools {
		if p.Cluster != "" && !known[p.Cluster] {
			return fmt.Errorf("resource_pools[%d].cluster: pool %q names cluster %q, which clusters: does not list (known: %s)", i, p.Name, p.Cluster, c.clusterList())
		}
		for j, a := range p.SbatchArgs {
			if strings.HasPrefix(a, "-M") || strings.HasPrefix(a, "--clusters") {
				return fmt.Errorf("resource_pools[%d].sbatch_args[%d]: %q: the pool's cluster: says where its jobs go", i, j, a)
			}
		}
		if iface, _ := c.InterfaceOf(p.Cluster); iface == SlurmInterfaceREST {
			if err := rest.CheckSbatchArgs(p.SbatchArgs); err != nil {
				return fmt.Errorf("resource_pools[%d].sbatch_args: pool %q is on a cluster reached through slurmrestd: %w", i, p.Name, err)
			}
		}
	}
	return nil
}

// clusterList names the clusters for an error: the local one first.
func (c *Config) clusterList() string {
	names := []string{`"" (the local cluster)`}
	for _, cl := range c.Clusters {
		names = append(names, cl.Name)
	}
	return strings.Join(names, ", ")
}

// ClusterNames are the clusters the bridge serves: "" (the local one)
// first, then those of clusters: in order.
func (c *Config) ClusterNames() []string {
	names := []string{""}
	for _, cl := range c.Clusters {
		names = append(names, cl.Name)
	}
	return names
}

// ClusterLabel is how a cluster is named where "" will not do: its name;
// for the local one, LocalClusterName, or LocalClusterLabel when Slurm
// did not say it.
func (c *Config) ClusterLabel(name string) string {
	switch {
	case name != "":
		return name
	case c.LocalClusterName != "":
		return c.LocalClusterName
	}
	return LocalClusterLabel
}
