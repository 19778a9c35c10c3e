package load

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Idle holds open websockets.
type Idle struct{ conns []*websocket.Conn }

// idleDialer opens the idle websockets with small buffers: thousands of
// them stay in the suite's own process.
var idleDialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 4 << 10, WriteBufferSize: 4 << 10}

// OpenIdle opens n websockets to url, 32 at a time, and leaves them idle.
func OpenIdle(url string, h http.Header, n int) (*Idle, error) {
	idle := &Idle{conns: make([]*websocket.Conn, n)}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, 32)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(idleDialer, url, h)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = err
				}
				return
			}
			idle.conns[i] = c
		}(i)
	}
	wg.Wait()
	if first != nil {
		idle.Close()
		return nil, first
	}
	return idle, nil
}

// Close closes every connection.
func (i *Idle) Close() {
	for _, c := range i.conns {
		if c != nil {
			c.Close()
		}
	}
}
