package bridge

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"time"

	"github.com/gorilla/mux"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/proxy"
	"github.com/det-slurm/bridge/tunnel"
)

// Tunnel timings: a running task whose tunnel has been gone for
// tunnelGrace shows as unreachable (it is never ended for it); a proxied
// connection waits up to tunnelWait for a tunnel that is away to come
// back (a launcher dials again within about a second).
const (
	tunnelGrace = 10 * time.Second
	tunnelWait  = 5 * time.Second
)

// tunnelHost is the placeholder host of a tunnelled route's target: the
// proxy's connections go through the tunnel, never to this name.
const tunnelHost = "tunnel.invalid"

// handleTunnel takes a launcher's tunnel (GET /api/v1/tasks/{id}/tunnel,
// Upgrade: det-tunnel/1): only with the task's secret, for a live task in
// tunnel mode, from the address of a node Slurm allocated to the task.
// Every refusal is logged with the task, the address and the reason. The
// bridge never dials anything a job names: the job comes to it.
func (s *Server) handleTunnel(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	refuse := func(code int, reason string) {
		s.log.Warn("tunnel refused", "task_id", id, "remote", r.RemoteAddr, "reason", reason)
		writeError(w, code, reason)
	}
	if !tunnel.IsRequest(r) {
		refuse(http.StatusBadRequest, "not a tunnel request: it needs Connection: Upgrade and Upgrade: "+tunnel.Protocol)
		return
	}
	t, err := s.store.GetTask(r.Context(), id)
	secret := r.Header.Get(jobspec.SecretHeader)
	if err != nil || secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(t.Secret)) != 1 {
		refuse(http.StatusForbidden, "bad task secret")
		return
	}
	switch {
	case api.Terminal(t.State) || t.State == api.StateTerminating:
		refuse(http.StatusConflict, "task is "+api.StateName(t.State))
		return
	case t.ProxyMode != jobspec.ProxyModeTunnel:
		refuse(http.StatusConflict, "the task is in "+t.ProxyMode+" proxy mode: the bridge connects to it, it opens no tunnel")
		return
	}
	if code, reason := s.fromTaskNode(r.Context(), t, r.RemoteAddr); code != 0 {
		refuse(code, reason)
		return
	}
	sess, err := tunnel.Accept(w, r, s.tunnelKeepAlive, s.tunnelWriteTimeout, s.log.With("task_id", id, "component", "tunnel"))
	if err != nil {
		s.log.Warn("tunnel could not start", "task_id", id, "remote", r.RemoteAddr, "err", err)
		return
	}
	s.tunnels.Attach(id, sess)
}

// fromTaskNode checks that remote (host:port) is an address of a node
// Slurm allocated to t's job: first by the bridge's last view of the job,
// then, when that does not say so, by asking Slurm. It returns 0, or the
// status and reason of a refusal (503 when Slurm cannot say).
func (s *Server) fromTaskNode(ctx context.Context, t *store.Task, remote string) (int, string) {
	host, _, err := net.SplitHostPort(remote)
	ip, perr := netip.ParseAddr(host)
	if err != nil || perr != nil {
		return http.StatusForbidden, fmt.Sprintf("cannot read the caller's address %q", remote)
	}
	ip = ip.Unmap()
	if j, ok := s.view.job(t.ID); ok && j.Err == nil && len(j.Nodes) > 0 && s.nodesHave(ctx, t.Cluster, j.Nodes, ip) {
		return 0, ""
	}
	if t.JobID == "" {
		return http.StatusConflict, "the task has no Slurm job yet"
	}
	jobs, err := s.slurmOf(t.Cluster).Query(ctx, []string{t.JobID})
	if err != nil {
		return http.StatusServiceUnavailable, "cannot confirm the allocation with Slurm: " + err.Error()
	}
	job, known := jobs[t.JobID]
	switch {
	case !known:
		return http.StatusForbidden, fmt.Sprintf("job %s is not in Slurm's queue", t.JobID)
	case job.Err != nil:
		return http.StatusServiceUnavailable, "cannot confirm the allocation with Slurm: " + job.Err.Error()
	case job.NodesErr != nil:
		return http.StatusServiceUnavailable, "cannot confirm the allocation with Slurm: " + job.NodesErr.Error()
	case len(job.Nodes) == 0:
		return http.StatusServiceUnavailable, fmt.Sprintf("job %s has no nodes yet (%s)", t.JobID, job.State)
	case !s.nodesHave(ctx, t.Cluster, job.Nodes, ip):
		return http.StatusForbidden, fmt.Sprintf("%s is not an address of job %s's nodes (%s)", ip, t.JobID, job.NodeList)
	}
	return 0, ""
}

// nodesHave reports whether ip is an address of one of the named nodes of
// a cluster:
// Slurm's NodeAddr of each (its name when Slurm has none), resolved.
func (s *Server) nodesHave(ctx context.Context, cluster string, names []string, ip netip.Addr) bool {
	addrs := map[string]string{}
	if nodes, err := s.clusterNodes(ctx, cluster); err == nil {
		for _, n := range nodes {
			addrs[n.Name] = n.Addr
		}
	}
	for _, name := range names {
		host := addrs[name]
		if host == "" {
			host = name
		}
		if slices.Contains(s.resolve(ctx, host), ip) {
			return true
		}
	}
	return false
}

// resolve returns the addresses of host (itself when it is one).
func (s *Server) resolve(ctx context.Context, host string) []netip.Addr {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}
	}
	lookup := s.lookupHost
	if lookup == nil {
		lookup = net.DefaultResolver.LookupNetIP
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	found, err := lookup(ctx, "ip", host)
	if err != nil {
		s.log.Warn("cannot resolve a node's address", "host", host, "err", err)
		return nil
	}
	for i := range found {
		found[i] = found[i].Unmap()
	}
	return found
}

// tunnelRoute is the route of a running task in tunnel mode: every
// connection through its tunnel.
func (s *Server) tunnelRoute(t *store.Task, r proxy.Route) proxy.Route {
	s.tunnels.Track(t.ID, "the job has not opened its tunnel")
	r.Target = &url.URL{Scheme: "http", Host: tunnelHost}
	id := t.ID
	r.Dial = func(ctx context.Context) (net.Conn, error) {
		c, err := s.tunnels.Dial(ctx, id)
		if d, ok := err.(*tunnel.Down); ok {
			return nil, &proxy.UnreachableError{Reason: d.Error()}
		}
		return c, err
	}
	return r
}

// Tunnels exposes the registry of the tasks' tunnels (for tests and
// benchmarks).
func (s *Server) Tunnels() *tunnel.Registry { return s.tunnels }

// TunnelRoute returns the route of a running task in tunnel mode, with
// the notebook's token and owner, whose connections go through the
// registry's tunnel of id: for benchmarks, which set routes by hand and
// attach tunnels they accept themselves (tunnel.Accept).
func (s *Server) TunnelRoute(id, token, owner string) proxy.Route {
	t := &store.Task{ID: id, JupyterToken: token, Owner: owner, State: api.StateRunning, ProxyMode: jobspec.ProxyModeTunnel}
	return s.tunnelRoute(t, proxy.Route{Token: token, Owner: owner, State: api.StateRunning})
}

// unreachable is what the API says of a running task whose tunnel has
// been gone past the grace period; nil otherwise.
func (s *Server) unreachable(t *store.Task) *api.Unreachable {
	if t.State != api.StateRunning {
		return nil
	}
	d := s.tunnels.Status(t.ID)
	if d == nil || !d.Unreachable {
		return nil
	}
	return &api.Unreachable{Since: d.Since.UTC(), Reason: d.Reason}
}
