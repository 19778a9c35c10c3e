package launcher

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/launcher/sshd"
	"github.com/det-slurm/bridge/tunnel"
)

// newSSHServer returns the shell's SSH server: it accepts the spec's key
// only, presents the spec's host key, and runs what clients ask inside
// the task's container, in its working folder.
func newSSHServer(spec *jobspec.Spec, p *prepared, log *slog.Logger) (*sshd.Server, error) {
	authorized, _, _, _, err := ssh.ParseAuthorizedKey([]byte(spec.SSHAuthorizedKey))
	if err != nil {
		return nil, fmt.Errorf("read the shell's SSH key: %w", err)
	}
	host, err := hostKey(spec)
	if err != nil {
		return nil, err
	}
	return sshd.New(sshd.Config{
		HostKey: host, AuthorizedKey: authorized, Dir: p.hostWork, Shell: "/bin/sh",
		Logger:  log.With("component", "sshd"),
		Command: containerCommand(spec, p),
	})
}

// hostKey is the SSH server's host key: the spec's (the bridge made it,
// and shows clients its public half to pin), or one made now.
func hostKey(spec *jobspec.Spec) (ssh.Signer, error) {
	if spec.SSHHostKey != "" {
		s, err := ssh.ParsePrivateKey([]byte(spec.SSHHostKey))
		if err != nil {
			return nil, fmt.Errorf("read the shell's SSH host key: %w", err)
		}
		return s, nil
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("make an SSH host key: %w", err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("make an SSH host key: %w", err)
	}
	return s, nil
}

// containerCommand runs the SSH server's commands in the task's
// container: the shell's own arguments (-c and the client's command), or
// for a login (-l) the image's login shell in the working folder.
func containerCommand(spec *jobspec.Spec, p *prepared) sshd.CommandFunc {
	return func(ctx context.Context, name string, args []string) *exec.Cmd {
		inner := append([]string{name}, args...)
		if len(args) == 1 && args[0] == "-l" {
			inner = []string{name, "-c", loginScript}
		}
		argv, procEnv := p.rt.Command(spec, p.hostWork, nil, inner, p.env)
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), procEnv...)
		cmd.Dir = p.hostWork
		return cmd
	}
}

// sshUpgrades passes the bridge's SSH connections (Upgrade:
// jobspec.SSHUpgrade, with the task's token) to l, where the SSH server
// takes them, and every other request to next.
type sshUpgrades struct {
	token string
	l     *tunnel.Listener
	next  http.Handler
}

func (h *sshUpgrades) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), jobspec.SSHUpgrade) {
		h.next.ServeHTTP(w, r)
		return
	}
	if !tokenOK(r, h.token) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot take over the connection", http.StatusInternalServerError)
		return
	}
	c, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	if _, err := rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + jobspec.SSHUpgrade + "\r\n\r\n"); err != nil {
		c.Close()
		return
	}
	if err := rw.Flush(); err != nil {
		c.Close()
		return
	}
	h.l.Serve(withBuffered(c, rw.Reader))
}

// withBuffered is c with the bytes br has already read from it put back.
func withBuffered(c net.Conn, br *bufio.Reader) net.Conn {
	n := br.Buffered()
	if n == 0 {
		return c
	}
	pending, _ := br.Peek(n)
	return &sniffedConn{Conn: c, pending: append([]byte(nil), pending...)}
}

// tokenOK says whether r carries the task's token as the bridge sends it.
func tokenOK(r *http.Request, token string) bool {
	return subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("token "+token)) == 1
}

// shellSSH is a shell's running SSH server; nil when the shell serves
// no SSH (its spec has no key).
type shellSSH struct {
	srv  *sshd.Server
	l    *tunnel.Listener
	stop context.CancelFunc
	done chan struct{}
}

// startSSH starts the shell's SSH server, which takes the connections
// handler (see shellSSH.handler) passes it, until ctx ends or close.
func startSSH(ctx context.Context, spec *jobspec.Spec, p *prepared, log *slog.Logger) (*shellSSH, error) {
	if spec.SSHAuthorizedKey == "" {
		return nil, nil
	}
	srv, err := newSSHServer(spec, p, log)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(ctx)
	s := &shellSSH{srv: srv, l: tunnel.NewListener(), stop: stop, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if err := srv.Serve(ctx, s.l); err != nil {
			log.Error("the SSH server stopped", "err", err)
		}
	}()
	return s, nil
}

// handler passes the bridge's SSH connections to the server and every
// other request to next.
func (s *shellSSH) handler(token string, next http.Handler) http.Handler {
	if s == nil {
		return next
	}
	return &sshUpgrades{token: token, l: s.l, next: next}
}

// active counts the open SSH connections: each is a use of the shell,
// like an attached terminal, whether it runs a session, holds a forward
// or waits for the next one.
func (s *shellSSH) active() int {
	if s == nil {
		return 0
	}
	return s.srv.Connections()
}

// close ends every SSH connection and waits for their work to end.
func (s *shellSSH) close() {
	if s == nil {
		return
	}
	s.stop()
	<-s.done
}
