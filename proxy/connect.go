package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// Connect opens a connection to the route's server as the proxy's
// requests reach it: through Dial, or to Target, which must then pass
// Prove first. It is for protocols the proxy does not carry itself
// (a shell's SSH, upgraded on the connection by the caller).
func (r Route) Connect(ctx context.Context) (net.Conn, error) {
	if r.Dial != nil {
		return r.Dial(ctx)
	}
	if r.Target == nil {
		return nil, errors.New("the task is not running")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", r.Target.Host)
	if err != nil {
		return nil, err
	}
	if r.Prove != nil {
		if err := r.Prove(c); err != nil {
			c.Close()
			return nil, fmt.Errorf("the server at %s did not prove it is the task's: %w", r.Target.Host, err)
		}
	}
	return c, nil
}
