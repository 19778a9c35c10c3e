package bridge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/localpeer"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
)

// sshShellID returns the task id of a request for a shell's SSH server:
// a websocket upgrade at the shell's service address, /proxy/<id>/
// exactly (the shell's terminal is at /proxy/<id>/shell).
func sshShellID(r *http.Request) (string, bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/proxy/")
	id, ok2 := strings.CutSuffix(rest, "/")
	if !ok || !ok2 || id == "" || strings.Contains(id, "/") || !websocket.IsWebSocketUpgrade(r) {
		return "", false
	}
	return id, true
}

// serveShellSSH joins an SSH client's websocket at /proxy/<id>/ to the
// SSH server of shell id: each binary message carries the client's bytes,
// as Determined's `python -m determined.cli.tunnel` sends them. It returns
// false, having answered nothing, when id is not a shell (the proxy then
// serves the request). Who may: see sshCaller.
func (s *Server) serveShellSSH(w http.ResponseWriter, r *http.Request, id string) bool {
	t, err := s.store.GetTask(r.Context(), id)
	if err != nil || t.Type != typeShell {
		return false
	}
	// What a shell is (squeue shows its id) is no secret; the cheap
	// refusals go first, before the caller's socket is looked up.
	switch {
	case t.SSHKey == "":
		writeError(w, http.StatusConflict, "shell "+id+" was started before shells served SSH: start a new one")
		return true
	case t.State != api.StateRunning:
		writeError(w, http.StatusConflict, "shell "+id+" is "+api.StateName(t.State)+", not running")
		return true
	}
	who, code, reason := s.sshCaller(r, t)
	if code != 0 {
		if host, _, _ := net.SplitHostPort(r.RemoteAddr); s.refusals.first("ssh\x00" + id + "\x00" + host) {
			s.log.Warn("ssh to a shell refused (more from this address within a minute are not logged)", "task_id", id, "remote", r.RemoteAddr, "caller", who, "reason", reason)
		}
		s.metrics.SSHRefused()
		writeError(w, code, reason)
		return true
	}
	route, ok := s.routes.Get(id)
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "shell "+id+" is not reachable yet")
		return true
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	backend, br, err := dialSSH(ctx, route.Connect, t.JupyterToken)
	cancel()
	if err != nil {
		s.log.Warn("cannot reach a shell's SSH server", "task_id", id, "err", err)
		writeError(w, http.StatusBadGateway, "cannot reach the shell's SSH server: "+err.Error())
		return true
	}
	defer backend.Close()
	ws, err := sshUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return true
	}
	defer ws.Close()
	s.log.Info("ssh connection to a shell", "task_id", id, "caller", who, "remote", r.RemoteAddr)
	// SSH traffic is activity, as the terminal's is; so is the end of a
	// connection, from which the shell's idle time counts.
	touch := func() { s.routes.Touch(id) }
	touch()
	defer s.metrics.SSHOpened()()
	joinSSH(ws, backend, br, touch)
	touch()
	s.log.Info("ssh connection to a shell ended", "task_id", id, "caller", who)
	return true
}

// sshUpgrader takes SSH clients' websockets; sshCaller has refused every
// request from a browser (one with an Origin).
var sshUpgrader = websocket.Upgrader{
	ReadBufferSize: 32 << 10, WriteBufferSize: 32 << 10,
	CheckOrigin: func(*http.Request) bool { return true },
}

// sshCaller decides who may reach shell t's SSH server, and names them:
// the owner or an admin, by the token the request carries; or, with no
// token (Determined's tunnel sends none), a process on this host whose
// socket belongs to the POSIX user the shell runs as. Browsers never:
// a page could otherwise open it with the user's cookie. It returns 0,
// or the status and reason of a refusal.
func (s *Server) sshCaller(r *http.Request, t *store.Task) (string, int, string) {
	if r.Header.Get("Origin") != "" {
		return "", http.StatusForbidden, "a shell's SSH is not for browsers: use ssh (det shell show_ssh_command " + t.ID + ")"
	}
	if s.credential(r) != "" {
		u, err := s.userOf(r)
		switch {
		case err != nil:
			return "", http.StatusUnauthorized, "the token is not valid: log in again (det user login)"
		case u.Username != t.Owner && !u.Admin:
			return u.Username, http.StatusForbidden, "shell " + t.ID + " is not yours"
		}
		s.auditAdminAccess(r, u, t.ID, t.Owner)
		return u.Username, 0, ""
	}
	uid, err := s.localPeerUID(r)
	if err != nil {
		return "", http.StatusUnauthorized, "no token, and " + err.Error() + ": use det shell show_ssh_command " + t.ID
	}
	uidText := strconv.FormatUint(uint64(uid), 10)
	who := "uid " + uidText
	if pu, err := s.lookupUser(t.PosixUser); err != nil || pu.Uid != uidText {
		return who, http.StatusForbidden, "shell " + t.ID + " does not run as your POSIX user (" + who + ")"
	}
	if owner, err := s.store.UserByName(r.Context(), t.Owner); err != nil || !owner.Active {
		return who, http.StatusForbidden, "the account of shell " + t.ID + "'s owner is deactivated"
	}
	return who, 0, ""
}

// localPeerUID returns the uid that owns the other end of r's connection,
// when that is a socket of a process on this host.
func (s *Server) localPeerUID(r *http.Request) (uint32, error) {
	la, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	local, err1 := netip.ParseAddrPort(fmt.Sprint(la))
	remote, err2 := netip.ParseAddrPort(r.RemoteAddr)
	if la == nil || err1 != nil || err2 != nil {
		return 0, errors.New("the connection's addresses are unknown")
	}
	uid, err := s.peerUID(local, remote)
	if err != nil {
		return 0, fmt.Errorf("the client is not a process of this host (%s)", remote.Addr())
	}
	return uid, nil
}

// peerUIDFunc is how the bridge learns the owner of a local client's
// socket (localpeer.UID; a variable for tests).
type peerUIDFunc func(local, remote netip.AddrPort) (uint32, error)

var defaultPeerUID peerUIDFunc = localpeer.UID

// dialSSH opens a connection to a shell's launcher with connect and
// upgrades it to the SSH server, with the task's token. It returns the
// connection and its reader (which may hold the first SSH bytes).
func dialSSH(ctx context.Context, connect func(context.Context) (net.Conn, error), token string) (net.Conn, *bufio.Reader, error) {
	c, err := connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://shell/", nil)
	req.Header.Set("Authorization", "token "+token)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", jobspec.SSHUpgrade)
	br := bufio.NewReaderSize(c, 32<<10)
	if err := req.Write(c); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("ask for the SSH server: %w", err)
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("ask for the SSH server: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, nil, fmt.Errorf("the shell answered %s (it serves no SSH)", resp.Status)
	}
	_ = c.SetDeadline(time.Time{})
	return c, br, nil
}

// joinSSH copies the websocket's binary messages to c and what c sends
// (read through br) back as binary messages, until either side ends,
// calling touch on each message.
func joinSSH(ws *websocket.Conn, c net.Conn, br *bufio.Reader, touch func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 32<<10)
		for {
			n, err := br.Read(buf)
			if n > 0 {
				touch()
				_ = ws.SetWriteDeadline(time.Now().Add(sshWriteTimeout)) // a client that stops reading
				if werr := ws.WriteMessage(websocket.BinaryMessage, buf[:n]); werr != nil {
					c.Close()
					return
				}
			}
			if err != nil {
				_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
				_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second)) // for the client's answer
				return
			}
		}
	}()
	for {
		mt, rd, err := ws.NextReader()
		if err != nil {
			break
		}
		if mt != websocket.BinaryMessage {
			continue
		}
		touch()
		if _, err := io.Copy(c, rd); err != nil {
			break
		}
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	} else {
		c.Close()
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.Close()
		ws.Close() // a write to a client that reads nothing ends too
		<-done
	}
}

// sshWriteTimeout bounds a write to an SSH client's websocket.
const sshWriteTimeout = 30 * time.Second
