package sshd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// dialTimeout bounds connecting a forward to its port.
const dialTimeout = 10 * time.Second

// directTCPIPMsg is a direct-tcpip channel's payload (RFC 4254 7.2).
type directTCPIPMsg struct {
	Host       string
	Port       uint32
	OriginHost string
	OriginPort uint32
}

// errNotLoopback is the refusal of a forward to anything but the job's
// own loopback addresses.
var errNotLoopback = errors.New("only loopback addresses (127.0.0.1, ::1, localhost) of the job can be forwarded to")

// forward serves a direct-tcpip channel (a local forward, ssh -L): to a
// loopback address of the job only, until either side ends or ctx ends.
func (s *Server) forward(ctx context.Context, nch ssh.NewChannel, log *slog.Logger) {
	var m directTCPIPMsg
	if err := ssh.Unmarshal(nch.ExtraData(), &m); err != nil {
		_ = nch.Reject(ssh.ConnectionFailed, "malformed direct-tcpip request")
		return
	}
	addr := net.JoinHostPort(m.Host, strconv.FormatUint(uint64(m.Port), 10))
	if !loopbackHost(m.Host) || m.Port == 0 || m.Port > 0xffff {
		log.Info("ssh forward refused", "to", addr)
		_ = nch.Reject(ssh.Prohibited, fmt.Sprintf("%s refused: %v", addr, errNotLoopback))
		return
	}
	d := net.Dialer{Timeout: dialTimeout, Control: loopbackOnly}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		log.Info("ssh forward failed", "to", addr, "err", err)
		_ = nch.Reject(ssh.ConnectionFailed, fmt.Sprintf("connect to %s: %v", addr, err))
		return
	}
	defer conn.Close()
	ch, reqs, err := nch.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	go func() { // until the channel is closed, by either side
		ssh.DiscardRequests(reqs)
		conn.Close()
	}()
	defer s.opened()()
	log.Debug("ssh forward opened", "to", addr)
	stop := context.AfterFunc(ctx, func() {
		conn.Close()
		ch.Close()
	})
	defer stop()

	act := s.cfg.Activity
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		copyActive(conn, ch, act)
		_ = conn.(*net.TCPConn).CloseWrite()
	}()
	go func() {
		defer wg.Done()
		copyActive(ch, conn, act)
		_ = ch.CloseWrite()
	}()
	wg.Wait()
}

// loopbackHost says whether a forward's host names a loopback address.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// loopbackOnly refuses, as the dialer connects, any address that is not
// loopback: "localhost" must resolve to loopback too.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("%s: %w", address, errNotLoopback)
	}
	return nil
}
