// Package benchbridge runs a real bridge.Server (SQLite store, REST API,
// proxy with auth and activity tracking) on loopback for the benchmarks,
// with a Slurm that has no jobs and a pprof endpoint beside it.
package benchbridge

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
	"time"

	"github.com/det-slurm/bridge/bridge"
	"github.com/det-slurm/bridge/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/proxy"
	"github.com/det-slurm/bridge/siteconfig"
)

// RouteID is the task id whose /proxy/<RouteID>/ route points at the
// benchmark backend.
const RouteID = "b0b0b0b0-0000-4000-8000-00000000bench"

// JupyterToken is the token the proxy injects upstream on RouteID.
const JupyterToken = "bench-jupyter-token"

// Options configure Run.
type Options struct {
	Dir       string // a fresh folder for the database and job folders
	Listen    string // e.g. 127.0.0.1:0
	Pprof     string // address of the pprof server; "" for none
	Backend   string // URL of the backend RouteID proxies to; "" for no route
	SeedTasks int    // terminated notebooks put in the store before serving
	TokenFile string // where the user token of "determined" is written
}

// Run serves until ctx ends. The bound address is printed on stdout as
// "listening <addr>" once requests are accepted.
func Run(ctx context.Context, o Options) error {
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
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := bridge.New(cfg, st, noSlurm(), log)
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
	fmt.Printf("listening %s\n", l.Addr())
	return srv.Serve(ctx, l)
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
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	_ = srv.ListenAndServe()
}
