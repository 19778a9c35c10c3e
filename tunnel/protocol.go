// Package tunnel carries the bridge's proxy connections to a job over one
// connection that the job opens: the launcher dials the bridge's callback
// URL with an HTTP/1.1 upgrade to Protocol, proves the task with its
// secret, and the two ends run a yamux session over what the upgrade
// leaves. The bridge is yamux's client (it opens a stream for each
// connection its proxy makes); the launcher is the server (it joins each
// stream to Jupyter's Unix socket, or to the shell). Nothing of the job
// listens on a network port, and the bridge never dials an address a job
// names.
package tunnel

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/yamux"
)

// Protocol is the Upgrade token of a tunnel request.
const Protocol = "det-tunnel/1"

// Timings of a session. A dead connection is found within KeepAlive +
// WriteTimeout (15 s): each side pings every KeepAlive and gives up on a
// ping, or on any write, not answered within WriteTimeout.
const (
	KeepAlive    = 5 * time.Second
	WriteTimeout = 10 * time.Second
)

// Path is the route a task's launcher opens its tunnel on.
func Path(taskID string) string {
	return "/api/v1/tasks/" + url.PathEscape(taskID) + "/tunnel"
}

// Config is the yamux configuration of both ends; keepAlive and
// writeTimeout zero take KeepAlive and WriteTimeout. yamux's own messages
// go to log at debug level: the ends log what matters themselves.
func Config(keepAlive, writeTimeout time.Duration, log *slog.Logger) *yamux.Config {
	c := yamux.DefaultConfig()
	c.KeepAliveInterval = cmp(keepAlive, KeepAlive)
	c.ConnectionWriteTimeout = cmp(writeTimeout, WriteTimeout)
	// A stream the other end never acknowledges means it is stuck: drop
	// the session, and the launcher dials again.
	c.StreamOpenTimeout = 30 * time.Second
	c.StreamCloseTimeout = time.Minute
	c.LogOutput = nil
	if log == nil {
		log = slog.Default()
	}
	c.Logger = yamuxLog{log}
	return c
}

func cmp(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// yamuxLog passes yamux's log lines to slog at debug level.
type yamuxLog struct{ l *slog.Logger }

func (y yamuxLog) Print(v ...any) { y.l.Debug(strings.TrimSpace(fmt.Sprint(v...))) }
func (y yamuxLog) Printf(format string, v ...any) {
	y.l.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)))
}
func (y yamuxLog) Println(v ...any) { y.l.Debug(strings.TrimSpace(fmt.Sprintln(v...))) }
