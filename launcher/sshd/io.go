package sshd

import (
	"io"
)

// activeReader calls activity on every read that returned data.
type activeReader struct {
	r        io.Reader
	activity func()
}

func (a activeReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.activity()
	}
	return n, err
}

// copyActive copies src to dst until either ends, calling activity on
// every chunk.
func copyActive(dst io.Writer, src io.Reader, activity func()) {
	_, _ = io.Copy(dst, activeReader{src, activity})
}

// activeConn is a read-write-closer that calls activity on every read
// and write that moved data.
type activeConn struct {
	io.ReadWriteCloser
	activity func()
}

func (a activeConn) Read(p []byte) (int, error) {
	return activeReader{a.ReadWriteCloser, a.activity}.Read(p)
}

func (a activeConn) Write(p []byte) (int, error) {
	n, err := a.ReadWriteCloser.Write(p)
	if n > 0 {
		a.activity()
	}
	return n, err
}
