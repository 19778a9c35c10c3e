package launcher

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/det-slurm/bridge/jobspec"
)

// How long a new connection may take to send its first bytes, and how long
// a proof answer may take to leave.
const (
	sniffTimeout = 30 * time.Second
	proofTimeout = 5 * time.Second
	// maxSniffing bounds the connections that have not yet said what they
	// are: a co-tenant holding many open costs no more than this.
	maxSniffing = 256
)

// front holds the notebook's TCP port from before the notebook server
// starts until the launcher exits, so no other process on the node can
// take the port and be routed to. It answers the bridge's proof requests
// (api.ProofPreamble) itself, then hands the connection, with the bytes it
// has already read past the proof, to Accept, as it does every other one.
type front struct {
	l      net.Listener
	port   int
	taskID string
	key    string // "" answers no proof
	log    *slog.Logger

	conns     chan net.Conn
	sniffing  chan struct{} // one token per connection being sniffed
	done      chan struct{}
	closeOnce sync.Once
}

var _ net.Listener = (*front)(nil)

// listenFront binds a free TCP port on every address of the node and starts
// accepting on it.
func listenFront(taskID, key string, log *slog.Logger) (*front, error) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return nil, err
	}
	return newFront(l, taskID, key, log), nil
}

// newFront serves the proof on l and hands other connections to Accept.
func newFront(l net.Listener, taskID, key string, log *slog.Logger) *front {
	f := &front{
		l: l, port: l.Addr().(*net.TCPAddr).Port, taskID: taskID, key: key, log: log,
		conns: make(chan net.Conn), sniffing: make(chan struct{}, maxSniffing), done: make(chan struct{}),
	}
	go f.acceptLoop()
	return f
}

// Accept implements net.Listener: it returns the next connection that is
// not a proof request.
func (f *front) Accept() (net.Conn, error) {
	select {
	case c := <-f.conns:
		return c, nil
	case <-f.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener; the port is free again afterwards.
func (f *front) Close() error {
	f.closeOnce.Do(func() { close(f.done) })
	return f.l.Close()
}

// Addr implements net.Listener.
func (f *front) Addr() net.Addr { return f.l.Addr() }

func (f *front) acceptLoop() {
	for {
		c, err := f.l.Accept()
		if err != nil {
			select {
			case <-f.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				f.closeOnce.Do(func() { close(f.done) })
				return
			}
			f.log.Warn("accept on the notebook's port", "err", err)
			time.Sleep(100 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		select {
		case f.sniffing <- struct{}{}:
			go func() { f.sniff(c); <-f.sniffing }()
		default:
			c.Close() // too many connections say nothing
		}
	}
}

// sniff reads a connection's first bytes: a proof request is answered;
// then the connection goes to Accept with what followed the request (or,
// for any other client, the bytes read) put back.
func (f *front) sniff(c net.Conn) {
	pre := []byte(jobspec.ProofPreamble)
	_ = c.SetReadDeadline(time.Now().Add(sniffTimeout))
	buf := make([]byte, 0, 4096)
	for {
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) < len(pre) && bytes.HasPrefix(pre, buf) {
			if err != nil {
				c.Close()
				return
			}
			continue // not enough yet to tell
		}
		if !bytes.HasPrefix(buf, pre) {
			break // a client of the notebook
		}
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			if !f.answer(c, string(buf[len(pre):i])) {
				c.Close()
				return
			}
			buf = buf[i+1:] // the bridge's request follows its proof on the same connection
			break
		}
		if err != nil || len(buf) > len(pre)+jobspec.ProofNonceMax+2 {
			c.Close()
			return
		}
	}
	_ = c.SetReadDeadline(time.Time{})
	sc := &sniffedConn{Conn: c, pending: buf}
	select {
	case f.conns <- sc:
	case <-f.done:
		c.Close()
	}
}

// answer sends the proof for nonce; false when there is none to give or
// it could not be sent.
func (f *front) answer(c net.Conn, nonce string) bool {
	nonce = strings.TrimSuffix(nonce, "\r")
	if f.key == "" || !jobspec.ValidProofNonce(nonce) {
		return false
	}
	_ = c.SetWriteDeadline(time.Now().Add(proofTimeout))
	_, err := io.WriteString(c, jobspec.ProofAnswer(f.key, f.taskID, f.port, nonce)+"\n")
	_ = c.SetWriteDeadline(time.Time{})
	return err == nil
}

// sniffedConn is a connection whose first bytes were already read.
type sniffedConn struct {
	net.Conn
	pending []byte
}

func (s *sniffedConn) Read(p []byte) (int, error) {
	if len(s.pending) > 0 {
		n := copy(p, s.pending)
		s.pending = s.pending[n:]
		return n, nil
	}
	return s.Conn.Read(p)
}

// CloseWrite half-closes the connection when the one below can.
func (s *sniffedConn) CloseWrite() error { return closeWrite(s.Conn) }

func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// spliceTo copies the bytes of every connection f accepts to a new
// connection to the Unix socket at sock and back, untouched (HTTP and
// websockets alike), until f is closed.
func spliceTo(f net.Listener, sock string, log *slog.Logger) {
	for {
		c, err := f.Accept()
		if err != nil {
			return
		}
		go splice(c, sock, log)
	}
}

// splice joins c to a new connection to sock. The client's end of input
// is passed on as a half-close; the server's end closes both.
func splice(c net.Conn, sock string, log *slog.Logger) {
	defer c.Close()
	u, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		log.Debug("notebook server not reachable on its socket", "err", err)
		return
	}
	defer u.Close()
	raw := c
	if sc, ok := c.(*sniffedConn); ok {
		if _, err := u.Write(sc.pending); err != nil {
			return
		}
		raw = sc.Conn
	}
	go func() {
		_, _ = io.Copy(u, raw)
		_ = closeWrite(u)
	}()
	_, _ = io.Copy(raw, u)
}

// unixClient is an HTTP client that reaches the server on the Unix socket
// at sock whatever the URL's host; it never opens a TCP connection.
func unixClient(sock string, timeout time.Duration) *http.Client {
	var d net.Dialer
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "unix", sock)
			},
			MaxIdleConns:    2,
			IdleConnTimeout: 30 * time.Second,
		},
	}
}
