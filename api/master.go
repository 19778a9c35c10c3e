package api

import "time"

// DeterminedVersion is the version of Determined's API the bridge speaks.
// Determined's CLI compares it with its own version and warns when they
// differ, so it is the release whose routes and JSON the bridge follows,
// not the bridge's own version (Master.BridgeVersion).
const DeterminedVersion = "0.38.1"

// Master is the body of GET /info (no login needed, without Slurm) and
// GET /api/v1/master: Determined's v1GetMasterResponse, and the bridge's
// own version and view of Slurm.
type Master struct {
	Version   string `json:"version"`
	MasterID  string `json:"masterId"`
	ClusterID string `json:"clusterId"`
	// ClusterName is the site config's cluster_name, else the host of its
	// external_url.
	ClusterName           string   `json:"clusterName"`
	HasCustomLogo         bool     `json:"hasCustomLogo"`
	StrictJobQueueControl bool     `json:"strictJobQueueControl"`
	RBACEnabled           bool     `json:"rbacEnabled"`
	TelemetryEnabled      bool     `json:"telemetryEnabled"`
	UserManagementEnabled bool     `json:"userManagementEnabled"`
	FeatureSwitches       []string `json:"featureSwitches"`

	// BridgeVersion is the bridge's own build.
	BridgeVersion string `json:"bridgeVersion"`
	// Slurm is absent from /info. On a site of several clusters it is
	// stale when any cluster's view is, and SlurmClusters has each
	// cluster's; SlurmClusters is absent where there is one.
	Slurm         *SlurmStatus    `json:"slurm,omitempty"`
	SlurmClusters []ClusterStatus `json:"slurmClusters,omitempty"`
}

// ClusterStatus is the bridge's view of one Slurm cluster; Name is
// "local" for the login node's own.
type ClusterStatus struct {
	Name string `json:"name"`
	SlurmStatus
}

// SlurmStatus says whether the bridge's view of Slurm is current.
type SlurmStatus struct {
	Stale  bool       `json:"stale"`
	Error  string     `json:"error,omitempty"`
	Since  *time.Time `json:"since,omitempty"`
	LastOK *time.Time `json:"lastOk,omitempty"`
}
