// Package sshd is the SSH server the launcher runs inside a job, so that
// ssh, scp, sftp and editors' remote modes reach the user's allocation.
//
// It serves connections from any net.Listener (a tunnel stream listener or
// a Unix socket; never a TCP port on a network address), accepts one
// public key only, and runs what the client asks as the process's own
// user (the job's user): a login shell or a command, with or without a
// pseudo-terminal, the sftp subsystem, and forwards to loopback ports of
// the job. It never changes users.
package sshd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// handshakeTimeout bounds a connection's key exchange and authentication.
const handshakeTimeout = 30 * time.Second

// CommandFunc builds how a command runs: name and args are the program and
// its arguments (the user's shell and its flags). Inside the job it wraps
// them into the task's container; plain exec.CommandContext will do
// otherwise. The server then adds to the command: the session's variables
// to its Env (Config.Env when Env is nil), Config.Dir when Dir is empty, a
// session of its own (Setsid), and its standard streams.
type CommandFunc func(ctx context.Context, name string, args []string) *exec.Cmd

// Config is what a Server needs.
type Config struct {
	HostKey       ssh.Signer    // the server's host key
	AuthorizedKey ssh.PublicKey // the one client key accepted
	Dir           string        // where commands start, and sftp's base for relative paths
	Env           []string      // the commands' base environment ("NAME=value"); nil: the process's
	Command       CommandFunc   // how a command runs (never nil *exec.Cmd); nil: directly
	Shell         string        // the user's login shell; default /bin/sh
	Logger        *slog.Logger  // nil logs nothing
	// Activity, if set, is called on every session or forward opened and
	// on every read or write of their data; it must be cheap (for example
	// store the time).
	Activity func()
}

// Server is an SSH server for the job's user.
type Server struct {
	cfg    Config
	ssh    *ssh.ServerConfig
	log    *slog.Logger
	active atomic.Int64
	conns  atomic.Int64
}

// euid is the process's effective user id (a variable for tests, which
// may run as root).
var euid = os.Geteuid

// New checks cfg and returns its server. It refuses to run as root: the
// server runs what clients ask as its own user, the job's.
func New(cfg Config) (*Server, error) {
	if euid() == 0 {
		return nil, errors.New("sshd: refusing to serve as root")
	}
	if cfg.HostKey == nil {
		return nil, errors.New("sshd: no host key")
	}
	if cfg.AuthorizedKey == nil {
		return nil, errors.New("sshd: no authorized key")
	}
	if cfg.Shell == "" {
		cfg.Shell = "/bin/sh"
	}
	if cfg.Command == nil {
		cfg.Command = func(ctx context.Context, name string, args []string) *exec.Cmd {
			return exec.CommandContext(ctx, name, args...)
		}
	}
	if cfg.Activity == nil {
		cfg.Activity = func() {}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log}
	s.ssh = s.serverConfig()
	return s, nil
}

// Active returns how many sessions and forwards are open now.
func (s *Server) Active() int { return int(s.active.Load()) }

// Connections returns how many authenticated connections are open now,
// whether or not they have a session or forward open (ssh -N -L holds
// one that opens a forward only when it is used).
func (s *Server) Connections() int { return int(s.conns.Load()) }

// opened counts a session or forward as open and reports activity; the
// function it returns counts it closed.
func (s *Server) opened() func() {
	s.active.Add(1)
	s.cfg.Activity()
	return func() { s.active.Add(-1) }
}

// Serve serves every connection l accepts until ctx ends, then closes l
// and the open connections, and returns nil once every connection's work
// has ended. It returns earlier, with the error, if l fails.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("sshd: accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(ctx, conn)
		}()
	}
}

// serveConn runs one connection: the handshake, then its channels, until
// the client leaves or ctx ends.
func (s *Server) serveConn(ctx context.Context, nc net.Conn) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	defer nc.Close()

	_ = nc.SetDeadline(time.Now().Add(handshakeTimeout))
	conn, chans, reqs, err := ssh.NewServerConn(nc, s.ssh)
	if err != nil {
		s.log.Info("ssh handshake failed", "err", err)
		return
	}
	_ = nc.SetDeadline(time.Time{})
	s.conns.Add(1)
	defer s.conns.Add(-1)
	log := s.log.With("ssh_user", conn.User(), "client", string(conn.ClientVersion()))
	log.Info("ssh connection opened")
	defer log.Info("ssh connection closed")

	var wg sync.WaitGroup
	defer func() { // end the channels' I/O and work, then wait for them
		conn.Close()
		cancel()
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		refuseGlobal(reqs, log)
	}()
	for nch := range chans {
		switch nch.ChannelType() {
		case "session":
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.session(ctx, nch, log)
			}()
		case "direct-tcpip":
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.forward(ctx, nch, log)
			}()
		default:
			_ = nch.Reject(ssh.UnknownChannelType, "channel type "+nch.ChannelType()+" is not served")
		}
	}
}

// refuseGlobal answers every global request no: remote forwards
// (tcpip-forward) are not served; keepalives take the no as an answer.
func refuseGlobal(reqs <-chan *ssh.Request, log *slog.Logger) {
	for r := range reqs {
		if r.Type == "tcpip-forward" {
			log.Info("remote forward refused: not served")
		}
		if r.WantReply {
			_ = r.Reply(false, nil)
		}
	}
}
