package tunnel

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/jobspec"
)

// inUse is the process's heap and goroutine stacks after a full GC.
func inUse() (heap, stack uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.StackInuse
}

// BenchmarkIdleTunnelMemory reports what the bridge holds per idle tunnel
// (heap-bytes/tunnel, stack-bytes/tunnel): n jobs' ends ask for their
// tunnels by hand and then say nothing (within the keepalive interval),
// so every byte counted is the bridge's: its connection, session and
// registry entry. The clients' ends are taken off by measuring as many
// plain TCP connections first.
func BenchmarkIdleTunnelMemory(b *testing.B) {
	const n = 200
	reg := NewRegistry(time.Minute, time.Second, quiet)
	srv := fakeBridge(b, reg, "s", 0, 0)
	addr := strings.TrimPrefix(srv.URL, "http://")
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer plain.Close()
	var held []net.Conn
	go func() {
		for {
			c, err := plain.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	open := func(tunnel bool) []net.Conn {
		var cs []net.Conn
		for i := range n {
			target := plain.Addr().String()
			if tunnel {
				target = addr
			}
			c, err := net.Dial("tcp", target)
			if err != nil {
				b.Fatal(err)
			}
			cs = append(cs, c)
			if !tunnel {
				continue
			}
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: b\r\nConnection: Upgrade\r\nUpgrade: %s\r\n%s: s\r\n\r\n", Path(fmt.Sprint("t", i)), Protocol, jobspec.SecretHeader)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
				b.Fatalf("tunnel %d: %v %v", i, resp, err)
			}
		}
		time.Sleep(100 * time.Millisecond)
		return cs
	}
	for range b.N {
		h0, s0 := inUse()
		raw := open(false)
		h1, s1 := inUse()
		tun := open(true)
		h2, s2 := inUse()
		// (b-a) is n connections' two ends; (c-b) is n clients' ends and
		// the bridge's n tunnels, each with its connection.
		per := func(a, b, c uint64) float64 { return (float64(c) - float64(b) - (float64(b)-float64(a))/2) / n }
		b.ReportMetric(per(h0, h1, h2), "heap-bytes/tunnel")
		b.ReportMetric(per(s0, s1, s2), "stack-bytes/tunnel")
		for _, c := range append(raw, tun...) {
			c.Close()
		}
		reg.CloseAll()
	}
}
