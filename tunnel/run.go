package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Back-off between attempts: from Initial, doubling, to at most Max, so a
// bridge that is back is found within about Max; never given up while
// the job runs.
const (
	Initial = 100 * time.Millisecond
	Max     = time.Second
)

// Run keeps the task's tunnel open until ctx ends, handing each stream the
// bridge opens to serve (in a goroutine of its own). up is called once,
// when the first tunnel is open. Lost tunnels are dialled again with
// back-off; a loss, the first failed attempt after it and the return are
// each logged once.
//
// Run gives up and returns the error when the bridge refuses the tunnel
// for good (RefusedError.Final: wrong secret, task not running, not the
// task's node), before or after a tunnel was open: the task is over, and
// its job should end rather than dial on. Before the first tunnel is open
// it also gives up after firstTimeout (zero means 1 min); once one was
// open, a bridge that does not answer is dialled on for as long as it
// takes. It returns nil when ctx ends.
func (d *Dialer) Run(ctx context.Context, serve func(net.Conn), up func(), firstTimeout time.Duration) error {
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	b := backoff.NewExponentialBackOff(backoff.WithInitialInterval(Initial), backoff.WithMaxInterval(Max),
		backoff.WithMaxElapsedTime(0), backoff.WithRandomizationFactor(0.2))
	first := time.Now().Add(cmp(firstTimeout, time.Minute))
	opened := false
	var lostAt time.Time
	attempts := 0
	for {
		s, err := d.Connect(ctx)
		if ctx.Err() != nil {
			if s != nil {
				s.Close()
			}
			return nil
		}
		if err != nil {
			attempts++
			var re *RefusedError
			switch {
			case errors.As(err, &re) && re.Final() && opened:
				return fmt.Errorf("the bridge no longer takes the task's tunnel: %w", err)
			case errors.As(err, &re) && re.Final():
				return err
			case !opened && time.Now().After(first):
				return fmt.Errorf("no tunnel to the bridge after %d attempts: %w", attempts, err)
			}
			if opened && attempts == 1 {
				log.Warn("the bridge does not take the tunnel yet; dialling on", "err", err)
			} else {
				log.Debug("tunnel to the bridge not open; trying again", "attempt", attempts, "err", err)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(b.NextBackOff()):
			}
			continue
		}
		b.Reset()
		if !opened {
			opened = true
			log.Info("tunnel to the bridge is open", "url", d.URL)
			if up != nil {
				up()
			}
		} else {
			log.Info("tunnel to the bridge is back", "down_for", time.Since(lostAt).Round(time.Millisecond), "attempts", attempts)
		}
		attempts = 0
		reason := d.serve(ctx, s, serve)
		if ctx.Err() != nil {
			return nil
		}
		lostAt = time.Now()
		log.Warn("tunnel to the bridge lost; dialling it again", "reason", reason)
	}
}

// serve hands the session's streams to serve until the session ends or
// ctx does, and says why it ended.
func (d *Dialer) serve(ctx context.Context, s *session, serve func(net.Conn)) string {
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	for {
		c, err := s.Accept()
		if err != nil {
			s.Close()
			return s.conn.reason("the bridge")
		}
		go serve(c)
	}
}
