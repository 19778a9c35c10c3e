package launcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"github.com/gorilla/websocket"
	"golang.org/x/sys/unix"

	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/tunnel"
)

// scrollbackSize is how much of the terminal's output a new attachment
// is shown first.
const scrollbackSize = 64 << 10

// shellSession is one shell under a pseudo-terminal, shared by every
// attached client.
type shellSession struct {
	ptmx  *os.File
	token string
	log   *slog.Logger

	mu         sync.Mutex
	scrollback []byte
	clients    map[*websocket.Conn]*shellClient
	shellPgrp  int
	typed      bool

	drained chan struct{} // closed when pump has read the terminal's last output

	// exitWait bounds how long exit waits for the clients to take the exit
	// message and hang up.
	exitWait time.Duration
}

// shellClient is one attached client's outbox. Terminal bytes and the exit
// message are kept apart, so the bytes can never be sent as a control
// message whatever they contain (see api.ShellControl).
type shellClient struct {
	out chan []byte // terminal bytes, each a binary frame
	// exit is set, under the session's lock, just before out is closed:
	// the exit message, sent as a text frame after the last bytes.
	exit []byte
	// gone is closed once the client's connection has ended.
	gone chan struct{}
}

// newShellSession serves the terminal ptmx to clients that present token,
// and starts copying its output.
func newShellSession(ptmx *os.File, token string, log *slog.Logger) *shellSession {
	s := &shellSession{ptmx: ptmx, token: token, log: log, clients: map[*websocket.Conn]*shellClient{}, drained: make(chan struct{}), exitWait: 3 * time.Second}
	go s.pump()
	return s
}

var upgrader = websocket.Upgrader{
	ReadBufferSize: 32 << 10, WriteBufferSize: 32 << 10,
	// Only the bridge, which checks the user's origin, holds the token.
	CheckOrigin: func(*http.Request) bool { return true },
}

// ServeHTTP attaches a client: the task's token is required; the client
// gets the scrollback, then the live output, in binary messages; its
// binary messages are keystrokes, its text messages control messages
// (resizes).
func (s *shellSession) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !tokenOK(r, s.token) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	cl := &shellClient{out: make(chan []byte, 256), gone: make(chan struct{})}
	s.mu.Lock()
	if len(s.scrollback) > 0 {
		cl.out <- append([]byte(nil), s.scrollback...)
	}
	s.clients[conn] = cl
	s.mu.Unlock()
	s.log.Info("client attached to the shell")
	go cl.send(conn)
	defer func() {
		s.mu.Lock()
		if _, ok := s.clients[conn]; ok {
			delete(s.clients, conn)
			close(cl.out)
		}
		s.mu.Unlock()
		conn.Close()
		close(cl.gone)
		s.log.Info("client detached from the shell")
	}()
	for {
		mt, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		switch mt {
		case websocket.BinaryMessage:
			s.mu.Lock()
			s.typed = true
			s.mu.Unlock()
			_, _ = s.ptmx.Write(data)
		case websocket.TextMessage:
			var c jobspec.ShellControl
			if json.Unmarshal(data, &c) == nil && c.Type == jobspec.ShellResize && c.Rows > 0 && c.Cols > 0 {
				_ = pty.Setsize(s.ptmx, &pty.Winsize{Rows: c.Rows, Cols: c.Cols})
			}
		}
	}
}

// send writes the client's outbox to its connection: terminal bytes as
// binary frames, then, once the shell has ended, the exit message as a
// text frame and a close.
func (cl *shellClient) send(conn *websocket.Conn) {
	for b := range cl.out {
		_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
			conn.Close()
			return
		}
	}
	if cl.exit == nil {
		return // detached
	}
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := conn.WriteMessage(websocket.TextMessage, cl.exit); err != nil {
		conn.Close()
		return
	}
	_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "the shell exited"))
}

// pump copies the terminal's output to the scrollback and every client.
func (s *shellSession) pump() {
	defer close(s.drained)
	buf := make([]byte, 32<<10)
	for {
		n, err := s.ptmx.Read(buf)
		if n > 0 {
			chunk := append([]byte(nil), buf[:n]...)
			s.mu.Lock()
			s.scrollback = append(s.scrollback, chunk...)
			if over := len(s.scrollback) - scrollbackSize; over > 0 {
				s.scrollback = append([]byte(nil), s.scrollback[over:]...)
			}
			if !s.typed {
				s.shellPgrp = s.foreground()
			}
			for _, cl := range s.clients {
				select {
				case cl.out <- chunk:
				default: // a client that cannot keep up misses output
				}
			}
			s.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// foreground returns the terminal's foreground process group.
func (s *shellSession) foreground() int {
	pg, err := unix.IoctlGetInt(int(s.ptmx.Fd()), unix.TIOCGPGRP)
	if err != nil {
		return 0
	}
	return pg
}

// report says how many clients are attached and whether a command other
// than the shell holds the terminal.
func (s *shellSession) report() jobspec.JupyterReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	fg := s.foreground()
	return jobspec.JupyterReport{ActivityAgeSeconds: -1, Attachments: len(s.clients), ForegroundBusy: s.shellPgrp != 0 && fg != 0 && fg != s.shellPgrp}
}

// exit tells every client the shell's status, after the output they were
// sent, and returns once each has taken it and hung up (answered the close
// that follows it), or after exitWait, when those left are cut off.
func (s *shellSession) exit(code int) {
	msg, _ := json.Marshal(jobspec.ShellControl{Type: jobspec.ShellExit, Code: code})
	type leaving struct {
		conn *websocket.Conn
		gone chan struct{}
	}
	var all []leaving
	s.mu.Lock()
	for c, cl := range s.clients {
		cl.exit = msg
		close(cl.out)
		delete(s.clients, c)
		all = append(all, leaving{c, cl.gone})
	}
	s.mu.Unlock()
	limit := time.NewTimer(s.exitWait)
	defer limit.Stop()
	for _, l := range all {
		select {
		case <-l.gone:
		case <-limit.C:
			for _, l := range all {
				l.conn.Close()
			}
			return
		}
	}
}

// runShell runs the container's login shell under a pseudo-terminal and
// serves it over a websocket only the bridge can use, until it exits: on
// the port fr holds (which answers the bridge's proof itself), or, with
// fr nil (tunnel mode), through the tunnel to the bridge.
func runShell(ctx context.Context, spec *jobspec.Spec, o Options, log *slog.Logger, p *prepared, fr *front) (int, string) {
	var l net.Listener = fr
	port := 0
	if fr != nil {
		port = fr.port
	} else {
		l = tunnel.NewListener()
	}
	defer l.Close()
	sshSrv, err := startSSH(ctx, spec, p, log)
	if err != nil {
		return 1, "start the SSH server: " + err.Error()
	}
	defer sshSrv.close()
	argv, procEnv := p.rt.Command(spec, p.hostWork, nil, []string{"/bin/sh", "-c", shellScript}, p.env)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), procEnv...), "TERM=xterm-256color")
	cmd.Dir = p.hostWork
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		return 1, fmt.Sprintf("start the shell: %v", err)
	}
	defer ptmx.Close()
	sess := newShellSession(ptmx, spec.JupyterToken, log)
	srv := &http.Server{Handler: sshSrv.handler(spec.JupyterToken, sess), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	var tunFailed <-chan error // once the tunnel is up: the bridge refused it for good
	if fr == nil {
		tunCtx, closeTunnel := context.WithCancel(ctx)
		defer closeTunnel()
		up, failed := openTunnel(tunCtx, spec, o, log, l.(*tunnel.Listener).Serve)
		tunFailed = failed
		select {
		case <-up:
		case err := <-failed:
			_ = cmd.Process.Kill()
			return 1, "tunnel to the bridge: " + err.Error()
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			return 143, "stopped"
		}
	}
	log.Info("shell started; reporting to the bridge", "port", port)
	if err := post(ctx, o.HTTPClient, spec, "ready", jobspec.ReadyRequest{Node: os.Getenv("SLURMD_NODENAME"), Port: port}); err != nil {
		_ = cmd.Process.Kill()
		return 1, "could not report to the bridge: " + err.Error()
	}
	hbCtx, stopHeartbeat := context.WithCancel(ctx)
	defer stopHeartbeat()
	go beat(hbCtx, o.HTTPClient, spec, log, func() jobspec.JupyterReport {
		rep := sess.report()
		rep.Attachments += sshSrv.active() // an open SSH connection is a use
		return rep
	})

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	for {
		select {
		case err := <-tunFailed:
			log.Error("no tunnel to the bridge; ending the shell", "err", err)
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGHUP)
			_ = cmd.Process.Kill()
			return 1, "tunnel to the bridge: " + err.Error()
		case s := <-sigs:
			log.Info("passing signal on to the shell", "signal", s.String())
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGHUP)
			_ = syscall.Kill(-cmd.Process.Pid, s.(syscall.Signal))
		case err := <-done:
			code, _ := exitCode(err)
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				code = 1
			}
			select { // the shell's last output goes before the exit message
			case <-sess.drained:
			case <-time.After(500 * time.Millisecond): // a background job holds the terminal
			}
			sess.exit(code)
			return code, fmt.Sprintf("shell exited with %d", code)
		}
	}
}
