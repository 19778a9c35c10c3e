package bridge

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/det-slurm/bridge/slurm"
)

// SetClusterSlurm gives the bridge the Slurm of one of the site's other
// clusters (siteconfig.Config.Clusters); call it before Start. The local
// cluster's is the one New was given.
func (s *Server) SetClusterSlurm(cluster string, sl Slurm) {
	if s.others == nil {
		s.others = map[string]Slurm{}
	}
	s.others[cluster] = sl
}

// slurmOf is the Slurm of a cluster ("" the local one). A cluster the
// bridge has no Slurm for (a task of a cluster since removed from the
// site config) answers every call with an error, so its tasks keep
// their state and its view goes stale.
func (s *Server) slurmOf(cluster string) Slurm {
	if cluster == "" {
		return s.slurm
	}
	if sl, ok := s.others[cluster]; ok {
		return sl
	}
	return unknownCluster(cluster)
}

// clusters are the clusters the bridge serves ("" first, then the site's
// others in config order) and any other that a task names.
func (s *Server) clusters(extra ...string) []string {
	names := s.cfg.ClusterNames()
	for _, c := range extra {
		if !slices.Contains(names, c) {
			names = append(names, c)
		}
	}
	return names
}

// multiCluster says whether the site has more than one cluster.
func (s *Server) multiCluster() bool { return len(s.cfg.Clusters) > 0 }

// clusterNodes caches each cluster's node list for the capacity
// interval.
type clusterNodes struct {
	mu    sync.Mutex
	nodes map[string][]slurm.Node
	at    map[string]time.Time
}

// refreshNodes returns the local cluster's node list, asked for at most
// once per capacity interval.
func (s *Server) refreshNodes(ctx context.Context) ([]slurm.Node, error) {
	return s.clusterNodes(ctx, "")
}

// clusterNodes returns a cluster's node list, asked for at most once per
// capacity interval; while the cluster does not answer, the last list it
// gave.
func (s *Server) clusterNodes(ctx context.Context, cluster string) ([]slurm.Node, error) {
	c := &s.nodes
	c.mu.Lock()
	defer c.mu.Unlock()
	cached, have := c.nodes[cluster]
	if have && time.Since(c.at[cluster]) < s.cfg.Capacity {
		return cached, nil
	}
	nodes, err := s.slurmOf(cluster).Nodes(ctx)
	if err != nil {
		if have {
			return cached, nil
		}
		return nil, err
	}
	for i := range nodes {
		nodes[i].Cluster = cluster
	}
	if c.nodes == nil {
		c.nodes, c.at = map[string][]slurm.Node{}, map[string]time.Time{}
	}
	c.nodes[cluster], c.at[cluster] = nodes, time.Now()
	return nodes, nil
}

// allNodes lists the nodes of every cluster that answers (or answered
// before); an error only when none does.
func (s *Server) allNodes(ctx context.Context) ([]slurm.Node, error) {
	var all []slurm.Node
	var firstErr error
	answered := false
	for _, cl := range s.clusters() {
		nodes, err := s.clusterNodes(ctx, cl)
		if err != nil {
			if firstErr == nil {
				firstErr = clusterErr(cl, err)
			}
			continue
		}
		answered = true
		all = append(all, nodes...)
	}
	if !answered {
		return nil, firstErr
	}
	return all, nil
}

// nodesByCluster asks every cluster for its nodes, for settling the pools
// at start; any cluster that does not answer is an error.
func (s *Server) nodesByCluster(ctx context.Context) (map[string][]slurm.Node, error) {
	by := map[string][]slurm.Node{}
	for _, cl := range s.clusters() {
		nodes, err := s.clusterNodes(ctx, cl)
		if err != nil {
			return nil, clusterErr(cl, err)
		}
		by[cl] = nodes
	}
	return by, nil
}

// clusterErr names the cluster in an error, unless it is the local one.
func clusterErr(cluster string, err error) error {
	if cluster == "" {
		return err
	}
	return fmt.Errorf("Slurm cluster %s: %w", cluster, err)
}

// poolCluster is the cluster of a pool ("" when the pool is unknown).
func (s *Server) poolCluster(pool string) string {
	if p, ok := s.cfg.Pool(pool); ok {
		return p.Cluster
	}
	return ""
}

// unknownCluster is the Slurm of a cluster the site config does not list.
type unknownCluster string

func (u unknownCluster) err() error {
	return fmt.Errorf("Slurm cluster %q is not in the site config's clusters", string(u))
}

func (u unknownCluster) Submit(context.Context, slurm.SubmitRequest) (string, error) {
	return "", u.err()
}
func (u unknownCluster) Query(context.Context, []string) (map[string]slurm.Job, error) {
	return nil, u.err()
}
func (u unknownCluster) Cancel(context.Context, string) error        { return u.err() }
func (u unknownCluster) Nodes(context.Context) ([]slurm.Node, error) { return nil, u.err() }
func (u unknownCluster) Active(context.Context) ([]slurm.Job, error) { return nil, u.err() }
func (u unknownCluster) Finished(context.Context, string) (string, int, error) {
	return "", 0, u.err()
}
func (u unknownCluster) TimeLimit(context.Context, string) (slurm.Limit, error) {
	return slurm.Limit{}, u.err()
}
func (u unknownCluster) SetTimeLimit(context.Context, string, time.Duration) error { return u.err() }
