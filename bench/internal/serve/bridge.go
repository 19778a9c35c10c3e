// Package serve is the processes the benchmark suite starts and measures
// (benchrun's subcommands): the static backend; a real bridge.Server
// (SQLite store, REST API, proxy with auth and activity tracking) on
// loopback with a fake Slurm of one node and a pprof endpoint beside it;
// the jobs' end of that bridge's tunnels; and a bare ReverseProxy.
//
// The bridge's routes: one set by hand to the benchmark backend (the
// bridge dials it, as in direct mode), and any number of seeded running
// notebooks in tunnel mode, whose jobs (on the fake node at 127.0.0.1)
// must dial the bridge's tunnel route with their secrets, as det-launcher
// does.
package serve

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/proxy"
	"github.com/det-slurm/bridge/siteconfig"
)

// RouteID is the task id whose /proxy/<RouteID>/ route points at the
// benchmark backend.
const RouteID = "b0b0b0b0-0000-4000-8000-00000000bench"

// JupyterToken is the token the proxy injects upstream on RouteID.
const JupyterToken = "bench-jupyter-token"

// BridgeOptions configure RunBridge.
type BridgeOptions struct {
	Dir       string // a fresh folder for the database and job folders
	Listen    string // e.g. 127.0.0.1:0
	Pprof     string // address of the pprof server; "" for none
	Backend   string // URL of the backend RouteID proxies to; "" for no route
	SeedTasks int    // terminated notebooks put in the store before serving
	TokenFile string // where the user token of "determined" is written
	// Tunnels running notebooks in tunnel mode are put in the store
	// (TunnelTaskID(0) ...), their secrets made from TunnelSecret.
	Tunnels      int
	TunnelSecret string
	// Out gets the "listening" line; nil means stdout.
	Out io.Writer
}

// RunBridge serves until ctx ends. The bound address is printed on stdout as
// "listening <addr>" once requests are accepted.
func RunBridge(ctx context.Context, o BridgeOptions) error {
	st, err := store.Open(filepath.Join(o.Dir, "bridge.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	l, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	cfg, err := config(o.Dir, "http://"+l.Addr().String())
	if err != nil {
		return err
	}
	if err := st.EnsureDefaultUsers(ctx); err != nil {
		return err
	}
	tok, _, err := st.Login(ctx, "determined", store.Plain(""), 24*time.Hour)
	if err != nil {
		return fmt.Errorf("log in as determined: %w", err)
	}
	if err := os.WriteFile(o.TokenFile, []byte(tok), 0o600); err != nil {
		return err
	}
	if err := seed(ctx, st, o.SeedTasks, o.Dir); err != nil {
		return err
	}
	if o.Tunnels > 0 && o.TunnelSecret == "" {
		return fmt.Errorf("tunnel tasks need a secret")
	}
	jobs, err := seedTunnels(ctx, st, o.Tunnels, o.TunnelSecret, o.Dir)
	if err != nil {
		return err
	}
	// The bridge logs nothing: logging costs the benchmarks nothing.
	srv := bridge.New(cfg, st, cluster(jobs), slog.New(slog.DiscardHandler))
	// As det-bridge starts: the tunnel tasks' routes from the store, the
	// pools from sinfo, one reconcile with squeue.
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("start the bridge: %w", err)
	}
	if o.Backend != "" {
		u, err := url.Parse(o.Backend)
		if err != nil {
			return err
		}
		srv.Routes().Set(RouteID, proxy.Route{Target: u, Token: JupyterToken, Owner: "determined", State: api.StateRunning})
	}
	if o.Pprof != "" {
		go servePprof(o.Pprof)
	}
	out := o.Out
	if out == nil {
		out = os.Stdout
	}
	fmt.Fprintf(out, "listening %s\n", l.Addr())
	return srv.Serve(ctx, l, nil)
}

// config is a minimal valid site config for a bridge that never submits.
func config(dir, external string) (*siteconfig.Config, error) {
	yaml := fmt.Sprintf(`listen: 127.0.0.1:0
external_url: %[2]s
callback_url: %[2]s
db_path: %[1]s/bridge.db
job_storage_root: %[1]s/jobs
launcher_path: /bin/true
insecure_empty_default_passwords: true
container_runtime:
  type: none
reconcile_interval: 1s
heartbeat_interval: 2s
default_compute_pool: cpu
default_aux_pool: cpu
resource_pools:
  - name: cpu
    partition: cpu
`, dir, external)
	return siteconfig.Parse([]byte(yaml), dir)
}

func servePprof(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	// The memory benchmarks start from what the bridge holds, not from
	// what earlier loads left for the runtime to reuse.
	mux.HandleFunc("/debug/free", func(w http.ResponseWriter, _ *http.Request) {
		debug.FreeOSMemory()
		w.WriteHeader(http.StatusOK)
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	_ = srv.ListenAndServe()
}
