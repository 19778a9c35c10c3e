package proxy

import (
	"errors"
	"io"
)

// smallBuf is what each direction of an upgraded (websocket) connection
// holds while it waits for bytes: an idle websocket keeps two of these,
// not two 32 KiB copy buffers.
const smallBuf = 2 << 10

// copyBufs lends the 32 KiB buffers a busy direction copies with.
var copyBufs bufferPool

var errInvalidWrite = errors.New("invalid write result")

// copyAdaptive copies src to dst as io.Copy does, but waits for input
// with a small buffer: a read that fills it borrows a pooled bufSize
// buffer for the reads that follow, and the first read that does not
// fill that one gives it back before the next wait.
func copyAdaptive(dst io.Writer, src io.Reader) (written int64, err error) {
	small := make([]byte, smallBuf)
	buf := small
	var big []byte
	defer func() {
		if big != nil {
			copyBufs.Put(big)
		}
	}()
	for {
		nr, er := src.Read(buf)
		if nr > 0 {
			nw, ew := dst.Write(buf[:nr])
			if nw < 0 || nr < nw {
				nw = 0
				if ew == nil {
					ew = errInvalidWrite
				}
			}
			written += int64(nw)
			if ew != nil {
				return written, ew
			}
			if nr != nw {
				return written, io.ErrShortWrite
			}
		}
		if er != nil {
			if er == io.EOF {
				return written, nil
			}
			return written, er
		}
		switch {
		case big == nil && nr == len(buf):
			big = copyBufs.Get()
			buf = big
		case big != nil && nr < len(buf):
			copyBufs.Put(big)
			big, buf = nil, small
		}
	}
}
