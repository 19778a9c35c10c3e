package proxy

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// chunky reads data in the chunk sizes given, then returns io.EOF; it
// records the size of the buffer of each read.
type chunky struct {
	data   []byte
	chunks []int
	sizes  []int
}

func (c *chunky) Read(p []byte) (int, error) {
	c.sizes = append(c.sizes, len(p))
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(c.data)
	if len(c.chunks) > 0 {
		n, c.chunks = min(n, c.chunks[0]), c.chunks[1:]
	}
	n = copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// TestCopyAdaptive: the copy is exact whatever the chunking, and the
// reader waits with the small buffer except right after a read that
// filled the one it had.
func TestCopyAdaptive(t *testing.T) {
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rand.IntN(256))
	}
	for _, chunks := range [][]int{nil, {1, 2, 3}, {smallBuf, bufSize, bufSize, 100, smallBuf, smallBuf - 1, 5}} {
		src := &chunky{data: data, chunks: append([]int(nil), chunks...)}
		var dst bytes.Buffer
		n, err := copyAdaptive(&dst, src)
		if err != nil || n != int64(len(data)) || !bytes.Equal(dst.Bytes(), data) {
			t.Fatalf("chunks %v: copied %d, %v", chunks, n, err)
		}
	}
	src := &chunky{data: data[:10+smallBuf+bufSize+10], chunks: []int{10, smallBuf, bufSize, 10}}
	if _, err := copyAdaptive(io.Discard, src); err != nil {
		t.Fatal(err)
	}
	// 10 of 2K: small; 2K fills it: big next; 32K fills it: big again;
	// 10 of 32K: back to small for the wait (which ends the copy).
	want := []int{smallBuf, smallBuf, bufSize, bufSize, smallBuf}
	if len(src.sizes) != len(want) {
		t.Fatalf("read sizes %v, want %v", src.sizes, want)
	}
	for i := range want {
		if src.sizes[i] != want[i] {
			t.Fatalf("read sizes %v, want %v", src.sizes, want)
		}
	}
}
