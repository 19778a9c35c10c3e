package launcher

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/tunnel"
)

// tunnelMode is true when the bridge reaches this task through a tunnel
// the launcher opens, not a port it holds.
func tunnelMode(spec *jobspec.Spec) bool { return spec.ProxyMode == jobspec.ProxyModeTunnel }

// openTunnel keeps the task's tunnel to the bridge open until ctx ends,
// handing every connection the bridge makes through it to serve. up is
// closed once the first tunnel is open; failed gets the error when none
// could be opened (the bridge refused it, or did not answer within a
// minute). Once open, a lost tunnel is dialled again for as long as the
// job runs.
func openTunnel(ctx context.Context, spec *jobspec.Spec, o Options, log *slog.Logger, serve func(net.Conn)) (up <-chan struct{}, failed <-chan error) {
	u, f := make(chan struct{}), make(chan error, 1)
	d := &tunnel.Dialer{URL: spec.CallbackURL, TaskID: spec.TaskID, Secret: spec.Secret,
		KeepAlive: o.TunnelKeepAlive, WriteTimeout: o.TunnelWriteTimeout, Log: log.With("component", "tunnel")}
	go func() {
		if err := d.Run(ctx, serve, func() { close(u) }, o.TunnelFirstTimeout); err != nil {
			f <- err
		}
	}()
	return u, f
}

// spliceToSocket joins each connection to a new connection to Jupyter's
// Unix socket.
func spliceToSocket(sock string, log *slog.Logger) func(net.Conn) {
	return func(c net.Conn) { splice(c, sock, log) }
}

// defaultTunnelFirst is how long a launcher tries to open its first
// tunnel before the task fails.
const defaultTunnelFirst = time.Minute
