package wsbench

import (
	"errors"
	"io"
)

// drain reads r to its end and returns how many bytes it had.
func drain(r io.Reader) (int, error) {
	var buf [64 << 10]byte
	n := 0
	for {
		k, err := r.Read(buf[:])
		n += k
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
