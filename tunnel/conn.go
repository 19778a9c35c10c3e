package tunnel

import (
	"errors"
	"io"
	"net"
	"sync"
)

// prefixConn is a connection some of whose first bytes were already read
// (past an HTTP head) and are given back first. It holds only those
// bytes, not the reader that read them.
type prefixConn struct {
	net.Conn
	pending []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		if len(c.pending) == 0 {
			c.pending = nil
		}
		return n, nil
	}
	return c.Conn.Read(p)
}

// withPending returns c with the bytes buffered gives back read first.
func withPending(c net.Conn, buffered []byte) net.Conn {
	if len(buffered) == 0 {
		return c
	}
	return &prefixConn{Conn: c, pending: append([]byte(nil), buffered...)}
}

// watchedConn remembers why a session's connection ended: the first read
// or write error before anyone closed it. A connection closed with no
// error seen was closed by yamux itself: a keepalive or a write went
// unanswered.
type watchedConn struct {
	net.Conn
	mu     sync.Mutex
	err    error
	closed bool
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.note(err)
	}
	return n, err
}

func (c *watchedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.note(err)
	}
	return n, err
}

func (c *watchedConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.Conn.Close()
}

func (c *watchedConn) note(err error) {
	c.mu.Lock()
	if c.err == nil && !c.closed {
		c.err = err
	}
	c.mu.Unlock()
}

// reason says, in words, why the connection ended; peer names the other
// end ("the bridge", "the job").
func (c *watchedConn) reason(peer string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.err == nil:
		return "no answer from " + peer + " within the keepalive timeout"
	case errors.Is(c.err, io.EOF):
		return peer + " closed the connection"
	}
	return "connection error: " + c.err.Error()
}
