// Package bridge is the det-bridge service: the REST API, the notebook
// lifecycle (submit, reconcile with Slurm, kill) and the proxy's routes.
package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/user"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/jobdir"
	"github.com/det-slurm/bridge/bridge/metrics"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/proxy"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
	"github.com/det-slurm/bridge/tunnel"
)

// Slurm is what the bridge needs of the cluster's scheduler.
type Slurm interface {
	// Submit queues a batch job and returns its id; an error means no job
	// was created.
	Submit(ctx context.Context, r slurm.SubmitRequest) (string, error)
	// Query returns what Slurm knows of the given jobs in one call. Jobs
	// Slurm has forgotten are absent; an error means nothing is known.
	Query(ctx context.Context, ids []string) (map[string]slurm.Job, error)
	// Cancel cancels a job; cancelling a finished job is not an error.
	Cancel(ctx context.Context, id string) error
	// Nodes lists the compute nodes.
	Nodes(ctx context.Context) ([]slurm.Node, error)
	// Active lists all pending and running jobs of the cluster.
	Active(ctx context.Context) ([]slurm.Job, error)
	// Finished asks accounting for a forgotten job's final state; it
	// returns slurm.ErrNoAccounting where the cluster keeps none.
	Finished(ctx context.Context, id string) (state string, exitCode int, err error)
	// TimeLimit returns a job's time limit and time used
	// (slurm.ErrJobGone when Slurm no longer knows it); SetTimeLimit
	// sets its limit, which takes a Slurm operator to raise.
	TimeLimit(ctx context.Context, id string) (slurm.Limit, error)
	SetTimeLimit(ctx context.Context, id string, limit time.Duration) error
}

var _ Slurm = (*slurm.CLI)(nil)

// Store is the persistence the bridge uses; see package store for the
// error contract (store.ErrNotFound for missing rows).
type Store interface {
	EnsureDefaultUsers(ctx context.Context) error
	ClusterID(ctx context.Context) (string, error)
	Login(ctx context.Context, name string, p store.Password, ttl time.Duration) (string, *store.User, error)
	UserByToken(ctx context.Context, token string) (*store.User, error)
	SessionByToken(ctx context.Context, token string) (*store.Session, error)
	NewToken(ctx context.Context, userID int64, taskID string, ttl time.Duration) (string, error)
	RevokeTaskTokens(ctx context.Context, taskID string) error
	PruneTokens(ctx context.Context, now time.Time) (int64, error)
	InsertTask(ctx context.Context, t *store.Task) error
	DeleteTask(ctx context.Context, id string) error
	SetJobID(ctx context.Context, id, jobID string) error
	GetTask(ctx context.Context, id string) (*store.Task, error)
	TasksByPrefix(ctx context.Context, prefix string) ([]*store.Task, error)
	ListTasks(ctx context.Context, f store.TaskFilter) ([]*store.Task, error)
	LiveTasks(ctx context.Context) ([]*store.Task, error)
	CountTasks(ctx context.Context) ([]store.TaskCount, error)
	UpdateTask(ctx context.Context, id string, u store.Update, msg string) error
	Requeued(ctx context.Context, id, state, reason string, at time.Time, msg string) error
	RestartSeen(ctx context.Context, id string, at time.Time, msg string) error
	AddExtension(ctx context.Context, id, msg string) (int, error)
	AddEvent(ctx context.Context, taskID, msg string) error
	CreateUser(ctx context.Context, name string, p store.Password, admin bool) (*store.User, error)
	CreateUserWithoutPassword(ctx context.Context, name string, admin bool) (*store.User, error)
	UserByName(ctx context.Context, name string) (*store.User, error)
	UserByID(ctx context.Context, id int64) (*store.User, error)
	UserByAgent(ctx context.Context, uid int, name string) (*store.User, error)
	ListUsers(ctx context.Context) ([]*store.User, error)
	PatchUser(ctx context.Context, id int64, p store.UserPatch) (*store.User, error)
	LinkAgent(ctx context.Context, name, posix string, uid int, group string, gid int) error
	RevokeToken(ctx context.Context, token string) error
	HasEmptyPassword(ctx context.Context, name string) (bool, error)
	Events(ctx context.Context, taskID string, after int64) ([]store.Event, error)
	UserSettings(ctx context.Context, userID int64) (*store.Settings, error)
	SetUserSettings(ctx context.Context, userID int64, st store.Settings) error
	AddAudit(ctx context.Context, a store.Audit) error
	ListAudit(ctx context.Context, q store.AuditQuery) ([]store.Audit, error)
	CountAudit(ctx context.Context, q store.AuditQuery) (int, error)
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
	AddUsage(ctx context.Context, rows []store.UsageRow) error
	Usage(ctx context.Context, from, to time.Time) ([]store.UsageRow, error)
	PruneUsage(ctx context.Context, cutoff time.Time) (int64, error)
}

var _ Store = (*store.Store)(nil)

// Server is the bridge.
type Server struct {
	cfg    *siteconfig.Config
	store  Store
	slurm  Slurm
	routes *proxy.Table
	log    *slog.Logger
	kick   chan struct{}

	reports   reports
	view      slurmView
	abandoned abandoned
	// submitting are the tasks whose submit is running (abort.go).
	submitting inflight
	// ended are the terminated tasks whose routes are kept for a while.
	ended   endedRoutes
	limiter loginLimiter
	metrics *metrics.Metrics
	tokens  tokenCache
	grants  *nbGrants
	// adminAccess and refusals say what the audit trail recorded lately
	// (audit.go).
	adminAccess, refusals *onceEvery
	// usage gathers queue waits and cancellations for the usage history
	// (usagehistory.go).
	usage usageCollector
	// extendMu makes extensions one at a time (extend.go).
	extendMu sync.Mutex

	// masterID names this run of the bridge; clusterID is the database's
	// (read by Start).
	masterID  string
	clusterID string

	// lookupPosix finds POSIX accounts by name; nil means os/user.Lookup.
	lookupPosix func(name string) (*user.User, error)
	// decodeMunge returns unmunge's output for a credential; nil means
	// running the site's unmunge.
	decodeMunge func(ctx context.Context, cred string) ([]byte, error)

	// others are the Slurm of the site's other clusters, by name
	// (clusters.go); nodes caches each cluster's node list.
	others map[string]Slurm
	nodes  clusterNodes

	// imageRunner runs `det-launcher check-image`; nil means
	// slurm.ExecRunner{}.
	imageRunner slurm.Runner

	// prove checks that the server at host:port holds the task's proof
	// key; nil means checkProof. Tests replace it.
	prove func(ctx context.Context, host string, port int, taskID, key string) error

	// tunnels are the tunnels of the tasks in tunnel mode; their sessions
	// use tunnelKeepAlive and tunnelWriteTimeout (zero: package tunnel's).
	tunnels                             *tunnel.Registry
	tunnelKeepAlive, tunnelWriteTimeout time.Duration
	// lookupHost resolves a node's address; nil means the system's
	// resolver. Tests replace it.
	lookupHost func(ctx context.Context, network, host string) ([]netip.Addr, error)
	// peerUID finds the owner of a local client's socket (sshproxy.go).
	peerUID peerUIDFunc
}

// New returns a bridge over the given store and Slurm. logger nil means
// slog.Default().
func New(cfg *siteconfig.Config, st Store, sl Slurm, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{cfg: cfg, store: st, slurm: sl, routes: proxy.NewTable(), peerUID: defaultPeerUID, log: logger, kick: make(chan struct{}, 1), grants: newNBGrants(),
		adminAccess: newOnceEvery(adminAccessWindow), refusals: newOnceEvery(refusalWindow),
		masterID: uuid.NewString(), tunnels: tunnel.NewRegistry(tunnelGrace, tunnelWait, logger.With("component", "tunnel"))}
	s.view.slowAfter = 2*cfg.Interval + 2*time.Second
	s.metrics = metrics.New(s)
	return s
}

// Metrics are the bridge's Prometheus metrics.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// Routes exposes the proxy's route table (for tests and benchmarks).
func (s *Server) Routes() *proxy.Table { return s.routes }

// Start restores routes from the store and reconciles once with Slurm, so
// the service is consistent before it accepts requests.
func (s *Server) Start(ctx context.Context) error {
	if err := s.store.EnsureDefaultUsers(ctx); err != nil {
		return fmt.Errorf("create default users: %w", err)
	}
	if err := s.checkDefaultPasswords(ctx); err != nil {
		return err
	}
	id, err := s.store.ClusterID(ctx)
	if err != nil {
		return err
	}
	s.clusterID = id
	if err := os.MkdirAll(s.cfg.JobStorageRoot, 0o755); err != nil {
		return fmt.Errorf("create job_storage_root: %w", err)
	}
	if err := jobdir.CheckRoot(s.cfg.JobStorageRoot); err != nil {
		return fmt.Errorf("job_storage_root: %w", err)
	}
	live, err := s.store.LiveTasks(ctx)
	if err != nil {
		return fmt.Errorf("load tasks: %w", err)
	}
	for _, t := range live {
		if t.ProxyMode == jobspec.ProxyModeTunnel && t.State == api.StateRunning {
			// Its job dials again within seconds; the grace period counts from now.
			s.tunnels.Track(t.ID, "the bridge restarted; waiting for the job to dial its tunnel again")
		}
		s.setRoute(t)
		s.routes.Touch(t.ID) // idle time counts from now: the proxy saw nothing while the bridge was down
	}
	nodes, err := s.nodesByCluster(ctx)
	if err != nil {
		return fmt.Errorf("ask Slurm for its partitions (is slurmctld running and SLURM_CONF right?): %w", err)
	}
	if err := s.setupPools(nodes); err != nil {
		return err
	}
	s.reconcile(ctx)
	s.sweepOrphans(ctx)
	s.pruneTokens(ctx)
	s.pruneAudit(ctx)
	s.pruneUsage(ctx)
	return nil
}

// tokenPrune is how often expired tokens, and those of ended tasks, are
// deleted from the store.
const tokenPrune = 10 * time.Minute

func (s *Server) pruneTokens(ctx context.Context) {
	n, err := s.store.PruneTokens(ctx, time.Now())
	if err != nil {
		s.log.Error("prune tokens", "err", err)
		return
	}
	if n > 0 {
		s.log.Info("pruned tokens that can no longer be used", "count", n)
	}
}

// Serve runs the reconciler and serves HTTP on l until ctx ends; metrics on
// metricsL too, unless it is nil.
func (s *Server) Serve(ctx context.Context, l, metricsL net.Listener) error {
	if metricsL != nil {
		go func() {
			if err := s.serveMetrics(ctx, metricsL); err != nil {
				s.log.Error("metrics listener stopped", "err", err)
			}
		}()
	}
	go every(ctx, s.cfg.Interval, s.kick, s.reconcile)
	go every(ctx, s.cfg.Interval, nil, func(ctx context.Context) { s.reap(ctx, time.Now()) })
	go every(ctx, tokenPrune, nil, s.pruneTokens)
	go every(ctx, auditPrune, nil, s.pruneAudit)
	go func() {
		s.sampleUsage(ctx) // the history's first point at once, not a minute from now
		every(ctx, usageStep, nil, s.sampleUsage)
	}()
	go every(ctx, usagePrune, nil, s.pruneUsage)
	go every(ctx, orphanSweep, nil, func(ctx context.Context) {
		s.sweepClusters(ctx, func(cl string) bool { return !s.view.clusterStatus(cl).Stale })
	})
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
		s.tunnels.CloseAll() // the jobs dial the next bridge
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// nodesAndLiveTasks returns the nodes of every cluster (from the cached
// views) and the live tasks: what the agent list is made of.
func (s *Server) nodesAndLiveTasks(ctx context.Context) ([]slurm.Node, []*store.Task, error) {
	nodes, err := s.allNodes(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("ask Slurm for its nodes: %w", err)
	}
	live, err := s.store.LiveTasks(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list live tasks: %w", err)
	}
	return nodes, live, nil
}

// every runs fn each interval, and whenever kick (may be nil) fires,
// until ctx ends.
func every(ctx context.Context, interval time.Duration, kick <-chan struct{}, fn func(context.Context)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-kick:
		}
		fn(ctx)
	}
}

// poke asks the reconciler to run now.
func (s *Server) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
