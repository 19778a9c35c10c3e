package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var wsDialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10}

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

// Echo sends n 64-byte text messages one at a time over a websocket to
// an echo (after warm warm-up messages) and times each until its echo is
// back.
func Echo(url string, h http.Header, warm, n int) (Result, error) {
	c, err := dial(wsDialer, url, h)
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	msg := bytes.Repeat([]byte("x"), 64)
	var lat vegeta.LatencyMetrics
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	for i := 0; i < warm+n; i++ {
		t0 := time.Now()
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			return Result{}, fmt.Errorf("send: %w", err)
		}
		_, got, err := c.ReadMessage()
		if err != nil {
			return Result{}, fmt.Errorf("read echo: %w", err)
		}
		if len(got) != len(msg) {
			return Result{}, fmt.Errorf("echo of %d bytes came back as %d", len(msg), len(got))
		}
		if i >= warm {
			lat.Add(time.Since(t0))
		}
	}
	return Result{P50: lat.Quantile(0.5), P99: lat.Quantile(0.99), Requests: n}, nil
}

// Throughput streams n binary messages of size bytes through an echo and
// returns the payload rate, in MB/s (10^6 bytes), of the echoed stream:
// the writer runs ahead of the reader as far as the sockets let it.
func Throughput(url string, h http.Header, size, n int) (float64, error) {
	c, err := dial(wsDialer, url, h)
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
	var got int64
	for i := 0; i < n; i++ {
		_, rd, err := c.NextReader()
		if err != nil {
			return 0, fmt.Errorf("read echo %d: %w", i, err)
		}
		k, err := io.Copy(io.Discard, rd)
		if err != nil {
			return 0, err
		}
		got += k
	}
	el := time.Since(t0)
	if err := <-werr; err != nil {
		return 0, fmt.Errorf("send: %w", err)
	}
	if got != int64(size*n) {
		return 0, errors.New("echo lost bytes")
	}
	return float64(got) / el.Seconds() / 1e6, nil
}
