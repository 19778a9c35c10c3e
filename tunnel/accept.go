package tunnel

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/yamux"
)

// IsRequest reports whether r asks for a tunnel (Connection: Upgrade,
// Upgrade: Protocol).
func IsRequest(r *http.Request) bool {
	return headerHas(r.Header, "Connection", "upgrade") && strings.EqualFold(strings.TrimSpace(r.Header.Get("Upgrade")), Protocol)
}

func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// Session is the bridge's end of an open tunnel.
type Session struct {
	*yamux.Session
	conn   *watchedConn
	Remote string // the job's address
}

// Reason says why the session ended, once it has.
func (s *Session) Reason() string { return s.conn.reason("the job") }

// Accept switches r's connection to the tunnel protocol (101) and starts
// the bridge's end of the session over it. The caller has checked the
// request (IsRequest) and the task; the handler may return at once, the
// session lives on.
func Accept(w http.ResponseWriter, r *http.Request, keepAlive, writeTimeout time.Duration, log *slog.Logger) (*Session, error) {
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, fmt.Errorf("take over the connection: %w", err)
	}
	_ = c.SetDeadline(time.Now().Add(cmp(writeTimeout, WriteTimeout)))
	if _, err := io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "+Protocol+"\r\n\r\n"); err != nil {
		c.Close()
		return nil, fmt.Errorf("answer the tunnel: %w", err)
	}
	_ = c.SetDeadline(time.Time{})
	var buffered []byte
	if n := brw.Reader.Buffered(); n > 0 {
		buffered, _ = brw.Reader.Peek(n)
	}
	wc := &watchedConn{Conn: withPending(c, buffered)}
	s, err := yamux.Client(wc, Config(keepAlive, writeTimeout, log))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("start the tunnel's session: %w", err)
	}
	return &Session{Session: s, conn: wc, Remote: r.RemoteAddr}, nil
}

// Open opens a stream to the job: one connection of the proxy's.
func (s *Session) Open() (net.Conn, error) {
	st, err := s.Session.OpenStream()
	if err != nil {
		return nil, err
	}
	return &stream{st}, nil
}

// stream is a yamux stream that gives back its receive buffer whenever
// a read empties it, so an idle connection (a websocket between
// messages, a pooled keep-alive connection) holds no buffer.
type stream struct{ *yamux.Stream }

func (s *stream) Read(p []byte) (int, error) {
	n, err := s.Stream.Read(p)
	if n < len(p) {
		s.Stream.Shrink()
	}
	return n, err
}

// Closed reports whether err means the session is gone.
func Closed(err error) bool {
	return errors.Is(err, yamux.ErrSessionShutdown) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF)
}
