package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/det-slurm/bridge/proxy"
)

// Commands are the subcommands Main runs.
var Commands = []string{"backend", "bridge", "tunnel-job", "rproxy"}

// Main runs the subcommand cmd (one of Commands) with its flags.
func Main(ctx context.Context, cmd string, args []string) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to serve on (backend, bridge, rproxy)")
	backend := fs.String("backend", "", "backend URL (bridge, rproxy), host:port (tunnel-job)")
	var b BridgeOptions
	fs.StringVar(&b.Dir, "dir", "", "bridge: fresh folder for the store")
	fs.StringVar(&b.Pprof, "pprof", "", "bridge: address of the pprof server")
	fs.IntVar(&b.SeedTasks, "seed", 0, "bridge: ended notebooks to store first")
	fs.StringVar(&b.TokenFile, "token-file", "", "bridge: where to write the user token")
	fs.IntVar(&b.Tunnels, "tunnels", 0, "bridge: running notebooks in tunnel mode to store first")
	fs.StringVar(&b.TunnelSecret, "tunnel-secret", "", "bridge: base of the tunnel notebooks' secrets")
	var t TunnelJobOptions
	fs.StringVar(&t.Bridge, "bridge", "", "tunnel-job: the bridge's URL (a job's callback_url)")
	fs.StringVar(&t.Secret, "secret", "", "tunnel-job: base of the tasks' secrets (the bridge's -tunnel-secret)")
	fs.IntVar(&t.First, "first", 0, "tunnel-job: number of the first tunnel task")
	fs.IntVar(&t.N, "n", 1, "tunnel-job: how many tunnel tasks, from -first")
	buf := fs.Int("buf", 32<<10, "rproxy: copy buffer size")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch cmd {
	case "backend":
		return serveHTTP(ctx, *listen, Backend())
	case "bridge":
		if b.Dir == "" || b.TokenFile == "" {
			return fmt.Errorf("bridge: -dir and -token-file are required")
		}
		b.Listen, b.Backend = *listen, *backend
		return RunBridge(ctx, b)
	case "tunnel-job":
		if t.Bridge == "" || t.Secret == "" || *backend == "" {
			return fmt.Errorf("tunnel-job: -bridge, -secret and -backend are required")
		}
		t.Backend = *backend
		t.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		return RunTunnelJob(ctx, t)
	case "rproxy":
		h, err := ReverseProxy(*backend, *buf)
		if err != nil {
			return err
		}
		return serveHTTP(ctx, *listen, h)
	}
	return fmt.Errorf("unknown subcommand %q", cmd)
}

// ReverseProxy is httputil.ReverseProxy alone, to backend (a URL), with
// proxy.DefaultTransport() and copy buffers of buf bytes: proxy.New's
// core without the bridge's routing, auth and activity tracking.
func ReverseProxy(backend string, buf int) (http.Handler, error) {
	u, err := url.Parse(backend)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("rproxy: backend URL %q: %v", backend, err)
	}
	pool := &sync.Pool{New: func() any { return make([]byte, buf) }}
	return &httputil.ReverseProxy{
		Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		Transport:  proxy.DefaultTransport(),
		BufferPool: bytesPool{pool},
	}, nil
}

type bytesPool struct{ p *sync.Pool }

func (b bytesPool) Get() []byte  { return b.p.Get().([]byte) }
func (b bytesPool) Put(x []byte) { b.p.Put(x) }

func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
