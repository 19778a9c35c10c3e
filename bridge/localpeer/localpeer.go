// Package localpeer tells which POSIX user owns the other end of a TCP
// connection the bridge accepted, the way identd does: it finds the
// client's socket in the kernel's socket table (/proc/net/tcp and tcp6)
// and returns the uid that socket belongs to.
//
// The answer is meaningful only when the client runs on this host, in the
// bridge's network namespace, and only while the bridge still holds the
// accepted connection: that keeps the address pair taken, so no other
// socket can carry it. The uid is the one that created the client socket
// (the user's process, or whatever it handed the socket to); a relay on
// this host, such as a reverse proxy, shows up as the relay's own user.
// When the table has no such socket the package says so and never guesses.
package localpeer

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"net/netip"
	"slices"

	"github.com/prometheus/procfs"
)

var (
	// ErrNotLocal means the peer's address is not one of this host's, so
	// the local socket table cannot know its owner.
	ErrNotLocal = errors.New("localpeer: the peer address is not an address of this host")
	// ErrNotFound means no established socket of this network namespace
	// has the peer's end of the connection: the client went, or lives in
	// another network namespace.
	ErrNotFound = errors.New("localpeer: no established socket holds the peer's end of the connection")
)

// tcpEstablished is TCP_ESTABLISHED, the st column of an open connection.
const tcpEstablished = 0x01

// Finder looks connections up in the socket tables of one procfs.
type Finder struct {
	// ProcRoot is where procfs is mounted; empty means "/proc".
	ProcRoot string
}

// UID returns the uid owning the client end of the TCP connection whose
// server end is local and client end is remote, from "/proc".
func UID(local, remote netip.AddrPort) (uint32, error) {
	return Finder{}.UID(local, remote)
}

// UID returns the uid owning the socket whose local address is remote and
// whose remote address is local, in state ESTABLISHED. IPv4-mapped IPv6
// addresses match their IPv4 form, in either table.
func (f Finder) UID(local, remote netip.AddrPort) (uint32, error) {
	local, remote = plain(local), plain(remote)
	if !local.IsValid() {
		return 0, errors.New("localpeer: no server address to look up")
	}
	if onHost, err := isHostAddr(remote.Addr()); err != nil {
		return 0, err
	} else if !onHost {
		return 0, fmt.Errorf("%w: %s", ErrNotLocal, remote.Addr())
	}
	root := f.ProcRoot
	if root == "" {
		root = procfs.DefaultMountPoint
	}
	proc, err := procfs.NewFS(root)
	if err != nil {
		return 0, fmt.Errorf("localpeer: open procfs at %s: %w", root, err)
	}
	for _, read := range []func() (procfs.NetTCP, error){proc.NetTCP, proc.NetTCP6} {
		table, err := read()
		if errors.Is(err, fs.ErrNotExist) {
			continue // no IPv6 (or no IPv4) on this host
		}
		if err != nil {
			return 0, fmt.Errorf("localpeer: read the TCP socket table under %s: %w", root, err)
		}
		for _, s := range table {
			if s.St == tcpEstablished && endpoint(s.LocalAddr, s.LocalPort) == remote && endpoint(s.RemAddr, s.RemPort) == local {
				if s.UID > math.MaxUint32 {
					return 0, fmt.Errorf("localpeer: socket of %s has uid %d, out of range", remote, s.UID)
				}
				return uint32(s.UID), nil
			}
		}
	}
	return 0, fmt.Errorf("%w: %s -> %s", ErrNotFound, remote, local)
}

// plain drops the IPv4 mapping and the zone, as the socket table has neither.
func plain(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
}

// endpoint turns a socket table address and port into a plain AddrPort; a
// malformed one becomes the zero AddrPort, which matches no valid query.
func endpoint(ip net.IP, port uint64) netip.AddrPort {
	a, ok := netip.AddrFromSlice(ip)
	if !ok || port > math.MaxUint16 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port))
}

// isHostAddr reports whether a is a loopback address or an address of one
// of this host's interfaces.
func isHostAddr(a netip.Addr) (bool, error) {
	if !a.IsValid() || a.IsLoopback() {
		return a.IsValid(), nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false, fmt.Errorf("localpeer: list this host's addresses: %w", err)
	}
	return slices.ContainsFunc(addrs, func(n net.Addr) bool {
		ipn, ok := n.(*net.IPNet)
		if !ok {
			return false
		}
		h, ok := netip.AddrFromSlice(ipn.IP)
		return ok && h.Unmap() == a
	}), nil
}
