package suite

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/det-slurm/bridge/bench/internal/benchbridge"
	"github.com/det-slurm/bridge/bench/internal/peers"
	"github.com/det-slurm/bridge/bench/internal/proc"
)

// The four paths every proxy figure is measured through, in table order.
const (
	pBridge = "bridge"
	pDirect = "direct"
	pNginx  = "nginx"
	pCHP    = "CHP"
)

// pBare is httputil.ReverseProxy alone, with the bridge's transport and
// buffer size: what any proxy built on it can do here.
const pBare = "ReverseProxy"

// pTunnel is a second benchmark bridge whose route is a notebook in
// tunnel mode: its connections go through the tunnel a job's end
// (benchrun tunnel-job) opened to it, and on to the same backend.
const pTunnel = "tunnel"

var pathOrder = []string{pBridge, pDirect, pNginx, pCHP}

// httpOrder adds the bare ReverseProxy to the HTTP tables.
var httpOrder = append(append([]string(nil), pathOrder...), pBare)

// tunnelOrder are the columns of the tunnel-mode tables: tunnel mode
// against direct mode (the bridge dialling the backend) and the backend.
var tunnelOrder = []string{pTunnel, pBridge, pDirect}

// withTunnel adds the tunnel path to a list of paths to measure.
func withTunnel(paths []string) []string { return append(append([]string(nil), paths...), pTunnel) }

// proxies is the static backend and everything in front of it.
type proxies struct {
	backend string            // host:port of the static backend
	path    string            // /proxy/<id>/, the same on every path
	base    map[string]string // path -> http://host:port/proxy/<id>/
	pid     map[string]int    // path -> its process (direct: the backend), for memory and CPU
	token   map[string]string // path -> the user token it wants (bridge, tunnel; the others get bridge's)
	pprof   map[string]string // path -> its pprof address (bridge, tunnel)
	jobPid  int               // the tunnel path's job end (benchrun tunnel-job)
}

// header is the request header every request through path p carries:
// the benchmark bridge's user token (the other paths ignore it).
func (px *proxies) header(p string) http.Header {
	tok, ok := px.token[p]
	if !ok {
		tok = px.token[pBridge]
	}
	return http.Header{"Authorization": {"Bearer " + tok}}
}

// setupProxies starts the backend, a benchmark bridge routed to it, nginx
// and configurable-http-proxy, once per run.
func (e *env) setupProxies(ctx context.Context) (*proxies, error) {
	if e.px == nil && e.pxErr == nil {
		e.px, e.pxErr = e.startProxies(ctx)
	}
	return e.px, e.pxErr
}

func (e *env) startProxies(ctx context.Context) (*proxies, error) {
	be, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	bp, _, err := e.start("backend", nil, e.exe, "backend", "-listen", be)
	if err != nil {
		return nil, err
	}
	if err := proc.WaitPort(ctx, be, 10*time.Second); err != nil {
		return nil, err
	}
	br, err := e.startBridge(ctx, "bridge", "-backend", "http://"+be)
	if err != nil {
		return nil, err
	}
	tb, job, err := e.startTunnelPath(ctx, "bridge-tunnel", be, 1)
	if err != nil {
		return nil, err
	}
	ngAddr, _ := proc.FreePort()
	ng, err := peers.Nginx(filepath.Join(e.work, "nginx"), ngAddr, be, "token "+benchbridge.JupyterToken)
	if err != nil {
		return nil, err
	}
	e.procs = append(e.procs, ng)
	chpAddr, _ := proc.FreePort()
	chp, err := peers.CHP(filepath.Join(e.opts.repo, "bench"), e.work, chpAddr, "http://"+be, "token "+benchbridge.JupyterToken)
	if err != nil {
		return nil, err
	}
	e.procs = append(e.procs, chp)
	bareAddr, bare, err := e.startRProxy(be, 32<<10)
	if err != nil {
		return nil, err
	}
	for _, a := range []string{ngAddr, chpAddr, bareAddr} {
		if err := proc.WaitPort(ctx, a, 15*time.Second); err != nil {
			return nil, fmt.Errorf("%w (logs in %s)", err, e.work)
		}
	}
	path := "/proxy/" + benchbridge.RouteID + "/"
	px := &proxies{
		backend: be, path: path,
		base: map[string]string{
			pBridge: "http://" + br.addr + path, pDirect: "http://" + be + path,
			pNginx: "http://" + ngAddr + path, pCHP: "http://" + chpAddr + path,
			pBare: "http://" + bareAddr + path, pTunnel: "http://" + tb.addr + tunnelPath(0),
		},
		pid:    map[string]int{pBridge: br.p.Pid(), pDirect: bp.Pid(), pNginx: ng.Pid(), pCHP: chp.Pid(), pBare: bare.Pid(), pTunnel: tb.p.Pid()},
		token:  map[string]string{pBridge: br.token, pTunnel: tb.token},
		pprof:  map[string]string{pBridge: br.pprof, pTunnel: tb.pprof},
		jobPid: job.Pid(),
	}
	for _, p := range withTunnel(httpOrder) {
		if err := checkGet(px.base[p]+"1k", px.header(p), 1<<10); err != nil {
			return nil, fmt.Errorf("%s path: %w", p, err)
		}
	}
	return px, nil
}

// benchBridge is one running benchmark bridge.
type benchBridge struct {
	p     *proc.Proc
	addr  string
	token string
	pprof string
}

// startBridge starts a real bridge on a fresh store with the given flags
// of the bridge subcommand (-backend, -seed).
func (e *env) startBridge(ctx context.Context, name string, flags ...string) (*benchBridge, error) {
	dir := filepath.Join(e.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	pp, _ := proc.FreePort()
	tokFile := filepath.Join(dir, "token")
	args := append([]string{e.exe, "bridge", "-dir", dir, "-pprof", pp, "-token-file", tokFile}, flags...)
	p, logPath, err := e.start(name, nil, args...)
	if err != nil {
		return nil, err
	}
	addr, err := proc.WaitLine(p, logPath, "listening ", 120*time.Second)
	if err != nil {
		return nil, err
	}
	tok, err := os.ReadFile(tokFile)
	if err != nil {
		return nil, err
	}
	if err := proc.WaitPort(ctx, addr, 10*time.Second); err != nil {
		return nil, err
	}
	return &benchBridge{p: p, addr: addr, token: string(tok), pprof: pp}, nil
}

// startRProxy starts the bare ReverseProxy in front of backend (host:port)
// with copy buffers of buf bytes and returns its address and process.
func (e *env) startRProxy(backend string, buf int) (string, *proc.Proc, error) {
	addr, err := proc.FreePort()
	if err != nil {
		return "", nil, err
	}
	p, _, err := e.start(fmt.Sprintf("rproxy-%d", buf>>10), nil, e.exe, "rproxy", "-listen", addr, "-backend", "http://"+backend, "-buf", fmt.Sprint(buf))
	return addr, p, err
}

// checkGet asks url once and wants a 200 with size bytes.
func checkGet(url string, h http.Header, size int) error {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header = h.Clone()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || len(body) != size {
		return fmt.Errorf("GET %s: HTTP %d, %d bytes: %s", url, resp.StatusCode, len(body), strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	return nil
}
