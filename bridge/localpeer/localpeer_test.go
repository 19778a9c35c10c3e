package localpeer

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestUIDRealConnection opens a loopback connection in the test and finds
// its client end in this host's socket table.
func TestUIDRealConnection(t *testing.T) {
	cases := []struct{ name, listen, dial string }{
		{"ipv4", "127.0.0.1:0", "127.0.0.1"},
		{"ipv6", "[::1]:0", "::1"},
		{"v4 client of a dual-stack listener", "[::]:0", "127.0.0.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", c.listen)
			if err != nil {
				t.Skipf("no %s listener on this host: %v", c.listen, err)
			}
			defer ln.Close()
			port := ln.Addr().(*net.TCPAddr).Port
			client, err := net.Dial("tcp", net.JoinHostPort(c.dial, strconv.Itoa(port)))
			if err != nil {
				t.Skipf("cannot dial %s: %v", c.dial, err)
			}
			defer client.Close()
			server, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer server.Close()
			local := server.LocalAddr().(*net.TCPAddr).AddrPort()
			remote := server.RemoteAddr().(*net.TCPAddr).AddrPort()
			uid, err := UID(local, remote)
			if err != nil {
				t.Fatalf("UID(%s, %s): %v", local, remote, err)
			}
			if want := uint32(os.Getuid()); uid != want {
				t.Fatalf("UID(%s, %s) = %d, want %d", local, remote, uid, want)
			}
		})
	}
}

// The kernel prints each 32-bit word of an address in host (little-endian)
// order: 127.0.0.1 is 0100007F, ::ffff:127.0.0.1 is
// 0000000000000000FFFF00000100007F, ::1 is 00000000000000000000000001000000.
const (
	tcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tcp       = tcpHeader +
		// root's bridge listening on 127.0.0.1:8080 (1F90)
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20001 1 0000000000000000 100 0 0 10 0\n" +
		// uid 2000 listening on 127.0.0.1:54321 (D431), the peer port of a query below
		"   1: 0100007F:D431 00000000:0000 0A 00000000:00000000 00:00000000 00000000  2000        0 20002 1 0000000000000000 100 0 0 10 0\n" +
		// the bridge's accepted end of 127.0.0.1:40000 (9C40) -> :8080
		"   2: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 20003 1 0000000000000000 20 4 30 10 -1\n" +
		// uid 1000's client end of that connection
		"   3: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 20004 1 0000000000000000 20 4 30 10 -1\n" +
		// uid 1001's client of 127.0.0.1:40001 (9C41), closed: FIN_WAIT2
		"   4: 0100007F:9C41 0100007F:1F90 08 00000000:00000000 00:00000000 00000000  1001        0 0 1 0000000000000000 20 4 30 10 -1\n" +
		// a client of a remote host 203.0.113.7 (077100CB), as if it were local
		"   5: 077100CB:9C42 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1002        0 20005 1 0000000000000000 20 4 30 10 -1\n" +
		// uid 1004's v4 client of the dual-stack bridge below, 127.0.0.1:40004 (9C44) -> :8443 (20FB)
		"   6: 0100007F:9C44 0100007F:20FB 01 00000000:00000000 00:00000000 00000000  1004        0 20006 1 0000000000000000 20 4 30 10 -1\n"
	tcp6Header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tcp6       = tcp6Header +
		// the dual-stack bridge on [::]:8443
		"   0: 00000000000000000000000000000000:20FB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 30001 1 0000000000000000 100 0 0 10 0\n" +
		// uid 1003's IPv6 socket connected to ::ffff:127.0.0.1:8080 from port 40003 (9C43)
		"   1: 0000000000000000FFFF00000100007F:9C43 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000  1003        0 30002 1 0000000000000000 20 4 30 10 -1\n" +
		// the dual-stack bridge's accepted end of uid 1004's v4 client
		"   2: 0000000000000000FFFF00000100007F:20FB 0000000000000000FFFF00000100007F:9C44 01 00000000:00000000 00:00000000 00000000     0        0 30003 1 0000000000000000 20 4 30 10 -1\n" +
		// uid 1005's client [::1]:40005 (9C45) -> [::1]:8443
		"   3: 00000000000000000000000001000000:9C45 00000000000000000000000001000000:20FB 01 00000000:00000000 00:00000000 00000000  1005        0 30004 1 0000000000000000 20 4 30 10 -1\n"
)

func fixture(t *testing.T) Finder {
	t.Helper()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"tcp": tcp, "tcp6": tcp6} {
		if err := os.WriteFile(filepath.Join(root, "net", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Finder{ProcRoot: root}
}

func TestUIDFixture(t *testing.T) {
	f := fixture(t)
	ap := netip.MustParseAddrPort
	cases := []struct {
		name          string
		local, remote string
		uid           uint32
		err           error
	}{
		{"v4 client", "127.0.0.1:8080", "127.0.0.1:40000", 1000, nil},
		{"mapped v4 in tcp6, queried as v4", "127.0.0.1:8080", "127.0.0.1:40003", 1003, nil},
		{"v4 in tcp, queried as mapped", "[::ffff:127.0.0.1]:8443", "[::ffff:127.0.0.1]:40004", 1004, nil},
		{"v6 client", "[::1]:8443", "[::1]:40005", 1005, nil},
		{"only a listener on the peer port", "127.0.0.1:8080", "127.0.0.1:54321", 0, ErrNotFound},
		{"client closed its end", "127.0.0.1:8080", "127.0.0.1:40001", 0, ErrNotFound},
		{"no such socket", "127.0.0.1:8080", "127.0.0.1:40099", 0, ErrNotFound},
		{"wrong server port", "127.0.0.1:8443", "127.0.0.1:40000", 0, ErrNotFound},
		{"remote host", "127.0.0.1:8080", "203.0.113.7:40002", 0, ErrNotLocal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			uid, err := f.UID(ap(c.local), ap(c.remote))
			if !errors.Is(err, c.err) || (c.err == nil && uid != c.uid) {
				t.Fatalf("UID(%s, %s) = %d, %v; want %d, %v", c.local, c.remote, uid, err, c.uid, c.err)
			}
		})
	}
}

// TestUIDNoTCP6 finds v4 clients on a host without IPv6, whose procfs has
// no net/tcp6.
func TestUIDNoTCP6(t *testing.T) {
	f := fixture(t)
	if err := os.Remove(filepath.Join(f.ProcRoot, "net", "tcp6")); err != nil {
		t.Fatal(err)
	}
	uid, err := f.UID(netip.MustParseAddrPort("127.0.0.1:8080"), netip.MustParseAddrPort("127.0.0.1:40000"))
	if err != nil || uid != 1000 {
		t.Fatalf("UID = %d, %v; want 1000", uid, err)
	}
	if _, err := f.UID(netip.MustParseAddrPort("127.0.0.1:8080"), netip.MustParseAddrPort("127.0.0.1:40003")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}
