package bridge

import (
	"net/http"
	"net/url"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// Version is the bridge's version, set at build time.
var Version = "dev"

// master describes the bridge as Determined's GET /api/v1/master does.
// The master id names this run of the bridge (a new one at each start, as
// Determined's); the cluster id is the database's.
func (s *Server) master() api.Master {
	return api.Master{
		Version:               api.DeterminedVersion,
		MasterID:              s.masterID,
		ClusterID:             s.clusterID,
		ClusterName:           s.clusterName(),
		UserManagementEnabled: true,
		FeatureSwitches:       []string{},
		BridgeVersion:         Version,
	}
}

// clusterName is the site config's cluster_name, else the host of its
// external_url.
func (s *Server) clusterName() string {
	if s.cfg.ClusterName != "" {
		return s.cfg.ClusterName
	}
	if u, err := url.Parse(s.cfg.ExternalURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return s.cfg.ExternalURL
}

// handleInfo answers GET /info, which needs no login: Determined's CLI
// asks it for the version before anything else.
func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.master())
}

// handleMaster describes the bridge and its view of Slurm: on a site of
// several clusters, each cluster's, and overall stale when any is.
func (s *Server) handleMaster(w http.ResponseWriter, r *http.Request) {
	m := s.master()
	st := s.view.status().api()
	if s.multiCluster() {
		for _, cl := range s.clusters() {
			cs := api.ClusterStatus{Name: s.cfg.ClusterLabel(cl), SlurmStatus: s.view.clusterStatus(cl).api()}
			m.SlurmClusters = append(m.SlurmClusters, cs)
			if cs.Stale && !st.Stale {
				st = cs.SlurmStatus
				st.Error = cs.Name + ": " + st.Error
			}
		}
	}
	m.Slurm = &st
	writeJSON(w, http.StatusOK, m)
}

// clusterOf is a task's cluster as the API shows it: absent on a site of
// one cluster.
func (s *Server) clusterOf(t *store.Task) string {
	if !s.multiCluster() {
		return ""
	}
	return s.cfg.ClusterLabel(t.Cluster)
}
