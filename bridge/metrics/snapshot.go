package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// Snapshot is the state the bridge reads from its store and its view of
// Slurm when Prometheus scrapes.
type Snapshot struct {
	Tasks []TaskCount
	Pools []PoolGPUs
	// Slurm is the bridge's view of each Slurm cluster.
	Slurm []SlurmView
	// Tunnels is the number of notebooks whose tunnel is open.
	Tunnels int
}

// SlurmView is the bridge's view of one cluster: Stale says its last look
// failed, AgeSeconds how old its last good look is. Cluster is the
// cluster's name from the site config, "local" for the login node's own.
type SlurmView struct {
	Cluster    string
	Stale      bool
	AgeSeconds float64
}

// TaskCount is how many tasks of one kind are in one state in one pool.
type TaskCount struct {
	Kind, Pool, State string
	N                 int
}

// PoolGPUs is what a pool's GPUs held by notebooks and shells do now.
type PoolGPUs struct {
	Pool string
	// Allocated are the GPUs of running tasks; Idle, of those, the GPUs
	// of tasks idle for more than half their idle timeout.
	Allocated, Idle int
}

// Source reads a Snapshot.
type Source interface {
	MetricsSnapshot(ctx context.Context) (Snapshot, error)
}

var (
	tasksDesc = prometheus.NewDesc(ns+"_tasks", "Notebooks and shells by kind, pool and state.",
		[]string{"kind", "pool", "state"}, nil)
	gpusDesc = prometheus.NewDesc(ns+"_gpus_allocated", "GPUs held by running notebooks and shells, by pool.",
		[]string{"pool"}, nil)
	idleGPUsDesc = prometheus.NewDesc(ns+"_gpus_idle", "GPUs held by notebooks and shells idle for more than half their idle timeout, by pool.",
		[]string{"pool"}, nil)
	staleDesc = prometheus.NewDesc(ns+"_slurm_view_stale", "1 when the bridge's last look at a Slurm cluster failed, else 0, by cluster.",
		[]string{"cluster"}, nil)
	ageDesc = prometheus.NewDesc(ns+"_slurm_view_age_seconds", "Age of the bridge's last good look at a Slurm cluster, by cluster.",
		[]string{"cluster"}, nil)
	tunDesc = prometheus.NewDesc(ns+"_tunnels_open", "Notebooks whose tunnel to the bridge is open.", nil, nil)
	upDesc  = prometheus.NewDesc(ns+"_snapshot_ok", "1 when the bridge could read its state for this scrape, else 0.", nil, nil)
)

// snapshotCollector turns a Snapshot into gauges at each scrape.
type snapshotCollector struct{ src Source }

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{tasksDesc, gpusDesc, idleGPUsDesc, staleDesc, ageDesc, tunDesc, upDesc} {
		ch <- d
	}
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := scrapeContext()
	defer cancel()
	s, err := c.src.MetricsSnapshot(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	for _, t := range s.Tasks {
		ch <- prometheus.MustNewConstMetric(tasksDesc, prometheus.GaugeValue, float64(t.N), t.Kind, t.Pool, t.State)
	}
	for _, p := range s.Pools {
		ch <- prometheus.MustNewConstMetric(gpusDesc, prometheus.GaugeValue, float64(p.Allocated), p.Pool)
		ch <- prometheus.MustNewConstMetric(idleGPUsDesc, prometheus.GaugeValue, float64(p.Idle), p.Pool)
	}
	for _, v := range s.Slurm {
		stale := 0.0
		if v.Stale {
			stale = 1
		}
		ch <- prometheus.MustNewConstMetric(staleDesc, prometheus.GaugeValue, stale, v.Cluster)
		ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, v.AgeSeconds, v.Cluster)
	}
	ch <- prometheus.MustNewConstMetric(tunDesc, prometheus.GaugeValue, float64(s.Tunnels))
}
