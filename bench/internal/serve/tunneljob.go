package serve

import (
	"context"
	"fmt"
	"github.com/det-slurm/bridge/tunnel"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"
)

// TunnelJobOptions configure RunTunnelJob.
type TunnelJobOptions struct {
	Bridge  string // the bridge's URL, as a job's callback_url
	Secret  string // base of the tasks' secrets (TunnelSecret)
	Backend string // host:port every stream is joined to
	First   int    // the first task's number (TunnelTaskID)
	N       int    // how many tasks, from First
	Log     *slog.Logger
	Out     io.Writer // gets the Ready line; nil means stdout
}

// Ready is the line RunTunnelJob prints on stdout, followed by the number of
// tunnels, once every tunnel is open.
const Ready = "tunnels open "

// RunTunnelJob plays the jobs' end of a benchmark bridge's seeded
// tunnel-mode notebooks: it keeps their tunnels open with
// tunnel.Dialer.Run, as det-launcher does, and joins every connection the
// bridge opens through one to a new TCP connection to the benchmark
// backend (det-launcher joins them to Jupyter's Unix socket; the copying
// is the same). It opens the tunnels of tasks First … First+N-1, one session and one
// TCP connection each, prints Ready once all are open and keeps them open
// (dialling again after a loss) until ctx ends. It returns the first error
// of a tunnel that could not be opened.
func RunTunnelJob(ctx context.Context, o TunnelJobOptions) error {
	if o.N < 1 {
		return fmt.Errorf("tunnel-job: no tunnels asked for")
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, o.N)
	var open sync.WaitGroup
	open.Add(o.N)
	for i := o.First; i < o.First+o.N; i++ {
		d := &tunnel.Dialer{URL: o.Bridge, TaskID: TunnelTaskID(i), Secret: TunnelSecret(o.Secret, i),
			Log: log.With("task_id", TunnelTaskID(i))}
		go func() {
			if err := d.Run(ctx, Splice(o.Backend, log), open.Done, time.Minute); err != nil {
				errs <- fmt.Errorf("tunnel of task %s: %w", d.TaskID, err)
			}
		}()
	}
	all := make(chan struct{})
	go func() { open.Wait(); close(all) }()
	select {
	case <-all:
		out := o.Out
		if out == nil {
			out = os.Stdout
		}
		fmt.Fprintf(out, "%s%d\n", Ready, o.N)
	case err := <-errs:
		return err
	case <-ctx.Done():
		return nil
	}
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
		return nil
	}
}

// Splice returns the handler of the bridge's streams: each is joined to a
// new TCP connection to backend (host:port), the client's end of input
// passed on as a half-close, as det-launcher joins them to Jupyter.
func Splice(backend string, log *slog.Logger) func(net.Conn) {
	return func(c net.Conn) {
		defer c.Close()
		u, err := net.DialTimeout("tcp", backend, 5*time.Second)
		if err != nil {
			log.Warn("the backend is not reachable", "backend", backend, "err", err)
			return
		}
		defer u.Close()
		go func() {
			_, _ = io.Copy(u, c)
			if tc, ok := u.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
		}()
		_, _ = io.Copy(c, u)
	}
}
