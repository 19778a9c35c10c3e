// Package wsbench measures websockets through a proxy: round-trip latency
// of small echoed messages, throughput of 1 MiB messages, and holding many
// idle connections open.
package wsbench

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/gorilla/websocket"
)

var dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10}

// Dial opens a websocket to url with the given headers.
func Dial(url string, h http.Header) (*websocket.Conn, error) { return dial(dialer, url, h) }

func dial(d *websocket.Dialer, url string, h http.Header) (*websocket.Conn, error) {
	c, resp, err := d.Dial(url, h)
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		return nil, fmt.Errorf("open websocket %s (HTTP %d): %w", url, code, err)
	}
	return c, nil
}

// Latency is the round-trip time of small echoed messages.
type Latency struct{ P50, P99 time.Duration }

// Echo sends n small text messages one at a time (after warm warm-up
// messages) and times each until its echo is back.
func Echo(url string, h http.Header, warm, n int) (Latency, error) {
	c, err := Dial(url, h)
	if err != nil {
		return Latency{}, err
	}
	defer c.Close()
	msg := bytes.Repeat([]byte("x"), 64)
	times := make([]time.Duration, 0, n)
	deadline := time.Now().Add(60 * time.Second)
	_ = c.SetReadDeadline(deadline)
	for i := 0; i < warm+n; i++ {
		t0 := time.Now()
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			return Latency{}, fmt.Errorf("send: %w", err)
		}
		_, got, err := c.ReadMessage()
		if err != nil {
			return Latency{}, fmt.Errorf("read echo: %w", err)
		}
		if len(got) != len(msg) {
			return Latency{}, fmt.Errorf("echo of %d bytes came back as %d", len(msg), len(got))
		}
		if i >= warm {
			times = append(times, time.Since(t0))
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return Latency{P50: pct(times, 50), P99: pct(times, 99)}, nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

// Throughput streams n binary messages of size bytes through the echo
// and returns the payload rate, in MB/s (10^6 bytes), of the echoed
// stream: the writer runs ahead of the reader as far as the sockets let it.
func Throughput(url string, h http.Header, size, n int) (float64, error) {
	c, err := Dial(url, h)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	msg := bytes.Repeat([]byte("y"), size)
	_ = c.SetReadDeadline(time.Now().Add(120 * time.Second))
	_ = c.SetWriteDeadline(time.Now().Add(120 * time.Second))
	werr := make(chan error, 1)
	t0 := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	got := 0
	for i := 0; i < n; i++ {
		_, rd, err := c.NextReader()
		if err != nil {
			return 0, fmt.Errorf("read echo %d: %w", i, err)
		}
		k, err := drain(rd)
		if err != nil {
			return 0, err
		}
		got += k
	}
	el := time.Since(t0)
	if err := <-werr; err != nil {
		return 0, fmt.Errorf("send: %w", err)
	}
	if got != size*n {
		return 0, errors.New("echo lost bytes")
	}
	return float64(got) / el.Seconds() / 1e6, nil
}
