package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/yamux"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/jobspec"
)

// Dialer opens a task's tunnel to the bridge (the launcher's end).
type Dialer struct {
	// URL is the bridge's callback URL (http or https).
	URL    string
	TaskID string
	Secret string
	// TLS configures an https URL's connection; nil checks the bridge's
	// certificate against the system's roots.
	TLS *tls.Config
	// Timeout bounds the connect and the upgrade; zero means 10 s.
	Timeout time.Duration
	// KeepAlive and WriteTimeout tune the session (Config); zero takes
	// the package's.
	KeepAlive, WriteTimeout time.Duration
	Log                     *slog.Logger
}

// RefusedError is the bridge's answer to a tunnel it would not open.
type RefusedError struct {
	Status  int    // HTTP status
	Message string // the bridge's reason
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the bridge refused the tunnel (%d %s): %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Final is true for a refusal that asking again will not change: the
// secret, the task's state or its node are wrong.
func (e *RefusedError) Final() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

// session is an open tunnel and the connection under it.
type session struct {
	*yamux.Session
	conn *watchedConn
}

// Connect opens one tunnel: a connection to the bridge, the upgrade with
// the task's secret, and the yamux session (the launcher's side: it
// accepts the streams the bridge opens).
func (d *Dialer) Connect(ctx context.Context) (*session, error) {
	u, err := url.Parse(d.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("the bridge's callback URL %q is not an absolute URL", d.URL)
	}
	timeout := cmp(d.Timeout, 10*time.Second)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[bool]string{true: "443", false: "80"}[u.Scheme == "https"])
	}
	nd := net.Dialer{KeepAlive: 15 * time.Second}
	var c net.Conn
	switch u.Scheme {
	case "http":
		c, err = nd.DialContext(ctx, "tcp", addr)
	case "https":
		td := tls.Dialer{NetDialer: &nd, Config: d.TLS}
		if td.Config == nil {
			td.Config = &tls.Config{ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}}
		}
		c, err = td.DialContext(ctx, "tcp", addr)
	default:
		return nil, fmt.Errorf("the bridge's callback URL %q is neither http nor https", d.URL)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to the bridge at %s: %w", addr, err)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	conn, err := d.upgrade(c, u)
	if !stop() || err != nil {
		c.Close()
		if err == nil {
			err = ctx.Err()
		}
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
	wc := &watchedConn{Conn: conn}
	s, err := yamux.Server(wc, Config(d.KeepAlive, d.WriteTimeout, d.Log))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("start the tunnel's session: %w", err)
	}
	return &session{Session: s, conn: wc}, nil
}

// upgrade asks for the tunnel on c and returns the connection the
// session runs on once the bridge has switched protocols.
func (d *Dialer) upgrade(c net.Conn, u *url.URL) (net.Conn, error) {
	ref := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimSuffix(u.Path, "/") + Path(d.TaskID)}
	req, err := http.NewRequest(http.MethodGet, ref.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", Protocol)
	req.Header.Set(jobspec.SecretHeader, d.Secret)
	if err := req.Write(c); err != nil {
		return nil, fmt.Errorf("ask the bridge for the tunnel: %w", err)
	}
	br := bufio.NewReaderSize(c, 4096)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, fmt.Errorf("read the bridge's answer to the tunnel: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer resp.Body.Close()
		return nil, refusal(resp)
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), Protocol) {
		return nil, fmt.Errorf("the bridge switched to %q, not %s", resp.Header.Get("Upgrade"), Protocol)
	}
	// The bridge may open a stream at once: what came after its head
	// is the session's.
	buffered, _ := br.Peek(br.Buffered())
	return withPending(c, buffered), nil
}

// refusal reads the bridge's error answer (Determined's error shape).
func refusal(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	var e api.Error
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		msg = e.Message
	}
	if msg == "" {
		msg = resp.Status
	}
	return &RefusedError{Status: resp.StatusCode, Message: msg}
}
