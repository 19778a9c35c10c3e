package suite

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/det-slurm/bridge/bench/internal/proc"
	"github.com/det-slurm/bridge/bench/internal/report"
	"github.com/det-slurm/bridge/bench/internal/serve"
)

// The paths every proxy figure is measured through.
const (
	pBridge = "bridge"       // a benchmark bridge in direct mode, dialling the backend
	pDirect = "direct"       // the backend itself
	pNginx  = "nginx"        //
	pCHP    = "CHP"          // configurable-http-proxy
	pBare   = "ReverseProxy" // httputil.ReverseProxy alone with the bridge's transport and buffers
	pTunnel = "tunnel"       // a second benchmark bridge, its route a notebook in tunnel mode
)

var (
	pathOrder   = []string{pBridge, pDirect, pNginx, pCHP}
	httpOrder   = append(append([]string(nil), pathOrder...), pBare)
	tunnelOrder = []string{pTunnel, pBridge, pDirect} // the tunnel-mode tables' columns
	idlePaths   = []string{pBridge, pTunnel, pNginx, pCHP}
	goPaths     = []string{pBridge, pTunnel} // whose runtime figures the suite reads
)

// withTunnel adds the tunnel path to a list of paths to measure.
func withTunnel(paths []string) []string { return append(append([]string(nil), paths...), pTunnel) }

// tunnelNote says what the tunnel column is, for the tunnel-mode tables.
const tunnelNote = "tunnel = a second benchmark bridge whose store holds a running notebook in tunnel mode; a separate process " +
	"(benchrun tunnel-job: tunnel.Dialer.Run, as det-launcher runs it) opened its tunnel on the bridge's real tunnel route and joins each " +
	"stream to a new TCP connection to the same backend. bridge = the benchmark bridge in direct mode; direct = the backend itself. " +
	"Rates compare as tunnel ÷ other, latencies as tunnel − other."

// proxies is the static backend and everything in front of it.
type proxies struct {
	backend string            // host:port of the static backend
	base    map[string]string // path -> http://host:port/proxy/<id>/
	pid     map[string]int    // path -> its process (direct: the backend), for memory and CPU
	token   map[string]string // path -> the user token it wants (bridge, tunnel; the others get bridge's)
	pprof   map[string]string // path -> its pprof address (bridge, tunnel)
	jobPid  int               // the tunnel path's job end
}

// header is what every request through path p carries: the benchmark
// bridge's user token (the other paths ignore it).
func (px *proxies) header(p string) http.Header {
	tok, ok := px.token[p]
	if !ok {
		tok = px.token[pBridge]
	}
	return http.Header{"Authorization": {"Bearer " + tok}}
}

// setupProxies starts the backend, the paths in front of it and the
// tunnel's end, once per run.
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
	bp, _, err := e.start("backend", e.exe, "backend", "-listen", be)
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
	secret := rand.Text()
	tb, err := e.startBridge(ctx, "bridge-tunnel", "-tunnels", "1", "-tunnel-secret", secret)
	if err != nil {
		return nil, err
	}
	job, err := e.startTunnelJob(tb, secret, be, 1)
	if err != nil {
		return nil, err
	}
	ngAddr, _ := proc.FreePort()
	ng, err := proc.Nginx(filepath.Join(e.work, "nginx"), ngAddr, be, "token "+serve.JupyterToken)
	if err != nil {
		return nil, err
	}
	e.procs = append(e.procs, ng)
	chpAddr, _ := proc.FreePort()
	chp, err := proc.CHP(filepath.Join(e.opts.repo, "bench"), e.work, chpAddr, "http://"+be, "token "+serve.JupyterToken)
	if err != nil {
		return nil, err
	}
	e.procs = append(e.procs, chp)
	bareAddr, bare, err := e.startRProxy(ctx, be, 32<<10)
	if err != nil {
		return nil, err
	}
	for _, a := range []string{ngAddr, chpAddr} {
		if err := proc.WaitPort(ctx, a, 15*time.Second); err != nil {
			return nil, fmt.Errorf("%w (logs in %s)", err, e.work)
		}
	}
	path := "/proxy/" + serve.RouteID + "/"
	px := &proxies{
		backend: be,
		base: map[string]string{
			pBridge: "http://" + br.addr + path, pDirect: "http://" + be + path,
			pNginx: "http://" + ngAddr + path, pCHP: "http://" + chpAddr + path,
			pBare: "http://" + bareAddr + path, pTunnel: "http://" + tb.addr + "/proxy/" + serve.TunnelTaskID(0) + "/",
		},
		pid:    map[string]int{pBridge: br.p.Pid(), pDirect: bp.Pid(), pNginx: ng.Pid(), pCHP: chp.Pid(), pBare: bare.Pid(), pTunnel: tb.p.Pid()},
		token:  map[string]string{pBridge: br.token, pTunnel: tb.token},
		pprof:  map[string]string{pBridge: br.pprof, pTunnel: tb.pprof},
		jobPid: job.Pid(),
	}
	for _, p := range withTunnel(httpOrder) {
		if err := checkGet(px.base[p]+"1k", px.header(p), serve.Small); err != nil {
			return nil, fmt.Errorf("%s path: %w", p, err)
		}
	}
	return px, nil
}

// benchBridge is one running benchmark bridge.
type benchBridge struct {
	name  string
	p     *proc.Proc
	addr  string
	token string
	pprof string
}

// startBridge starts a real bridge on a fresh store with the given flags
// of the bridge subcommand (-backend, -seed, -tunnels).
func (e *env) startBridge(ctx context.Context, name string, flags ...string) (*benchBridge, error) {
	dir := filepath.Join(e.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	pp, _ := proc.FreePort()
	tokFile := filepath.Join(dir, "token")
	p, logPath, err := e.start(name, append([]string{e.exe, "bridge", "-dir", dir, "-pprof", pp, "-token-file", tokFile}, flags...)...)
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
	return &benchBridge{name: name, p: p, addr: addr, token: string(tok), pprof: pp}, nil
}

// startTunnelJob starts the jobs' end of the n tunnel notebooks of br
// (started with -tunnels n -tunnel-secret secret), which opens their
// tunnels, as det-launcher would, and joins every connection through them
// to backend (host:port). It returns once every tunnel is open.
func (e *env) startTunnelJob(br *benchBridge, secret, backend string, n int) (*proc.Proc, error) {
	job, logPath, err := e.start(br.name+"-job", e.exe, "tunnel-job", "-bridge", "http://"+br.addr, "-secret", secret,
		"-backend", backend, "-n", fmt.Sprint(n))
	if err != nil {
		return nil, err
	}
	if _, err := proc.WaitLine(job, logPath, serve.Ready, 60*time.Second); err != nil {
		return nil, fmt.Errorf("tunnels of %s: %w (logs in %s)", br.addr, err, e.work)
	}
	return job, nil
}

// startRProxy starts the bare ReverseProxy in front of backend (host:port)
// with copy buffers of buf bytes and returns its address and process.
func (e *env) startRProxy(ctx context.Context, backend string, buf int) (string, *proc.Proc, error) {
	addr, err := proc.FreePort()
	if err != nil {
		return "", nil, err
	}
	p, _, err := e.start(fmt.Sprintf("rproxy-%d", buf>>10), e.exe, "rproxy", "-listen", addr, "-backend", "http://"+backend, "-buf", fmt.Sprint(buf))
	if err != nil {
		return "", nil, err
	}
	return addr, p, proc.WaitPort(ctx, addr, 10*time.Second)
}

// checkGet asks url once and wants a 200 with size bytes.
func checkGet(url string, h http.Header, size int) error {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header = h.Clone()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
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

// pick returns copies of rows with only the values of cols, so that one
// measurement of all the paths can fill tables of different columns.
func pick(rows []report.Row, cols []string) []report.Row {
	out := make([]report.Row, len(rows))
	for i, r := range rows {
		r.Values = map[string]float64{}
		for _, c := range cols {
			if v, ok := rows[i].Values[c]; ok {
				r.Values[c] = v
			}
		}
		out[i] = r
	}
	return out
}
