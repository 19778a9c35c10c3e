package tunnel

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Registry holds each task's live tunnel on the bridge: one per task (a
// new one replaces the old), and since when, and why, a task that should
// have one has none.
type Registry struct {
	// Grace is how long a tracked task may be without a tunnel before it
	// counts as unreachable.
	Grace time.Duration
	// Wait is how long Dial waits for a tunnel that is away (within the
	// grace period) to come back.
	Wait time.Duration
	Log  *slog.Logger

	mu sync.Mutex
	m  map[string]*slot
}

// slot is one task's place in the registry.
type slot struct {
	s *Session // nil while there is none
	// since and reason say when and why the tunnel went (or, for a task
	// tracked before any came, since when it is awaited).
	since  time.Time
	reason string
	// up is closed when a session arrives; a new one is made when it goes.
	up chan struct{}
}

// NewRegistry returns an empty registry.
func NewRegistry(grace, wait time.Duration, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.Default()
	}
	return &Registry{Grace: grace, Wait: wait, Log: log, m: map[string]*slot{}}
}

func (r *Registry) slotLocked(id string) *slot {
	sl := r.m[id]
	if sl == nil {
		sl = &slot{up: make(chan struct{})}
		r.m[id] = sl
	}
	return sl
}

// Attach makes s the tunnel of task id, closing the one it replaces, and
// watches it until it ends.
func (r *Registry) Attach(id string, s *Session) {
	r.mu.Lock()
	sl := r.slotLocked(id)
	old := sl.s
	sl.s, sl.reason = s, ""
	if old == nil {
		close(sl.up)
	}
	r.mu.Unlock()
	if old != nil {
		r.Log.Warn("a second tunnel for the task replaces the first", "task_id", id, "old_remote", old.Remote, "remote", s.Remote)
		old.Close()
	} else {
		r.Log.Info("tunnel open", "task_id", id, "remote", s.Remote)
	}
	go func() {
		<-s.CloseChan()
		r.lost(id, s)
	}()
}

// lost records that s has ended, if it is still task id's tunnel.
func (r *Registry) lost(id string, s *Session) {
	r.mu.Lock()
	sl := r.m[id]
	if sl == nil || sl.s != s {
		r.mu.Unlock()
		return
	}
	r.lostLocked(id, sl)
	r.mu.Unlock()
}

// lostLocked records that the slot's session has ended.
func (r *Registry) lostLocked(id string, sl *slot) {
	sl.reason = "tunnel lost: " + sl.s.Reason()
	r.Log.Warn("tunnel lost; waiting for the job to dial again", "task_id", id, "remote", sl.s.Remote, "reason", sl.reason)
	sl.s, sl.since = nil, time.Now()
	sl.up = make(chan struct{})
}

// Track starts expecting a tunnel for task id (a running task in tunnel
// mode); without one, the time counts from now, with reason.
func (r *Registry) Track(id, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[id]; ok {
		return
	}
	sl := r.slotLocked(id)
	sl.since, sl.reason = time.Now(), reason
}

// Forget closes task id's tunnel, if any, and stops expecting one.
func (r *Registry) Forget(id string) {
	r.mu.Lock()
	sl := r.m[id]
	delete(r.m, id)
	r.mu.Unlock()
	if sl != nil && sl.s != nil {
		sl.s.Close()
	}
}

// CloseAll closes every tunnel (the bridge is stopping: the jobs dial
// the next one).
func (r *Registry) CloseAll() {
	r.mu.Lock()
	var all []*Session
	for _, sl := range r.m {
		if sl.s != nil {
			all = append(all, sl.s)
		}
	}
	r.mu.Unlock()
	for _, s := range all {
		s.Close()
	}
}

// Down says why a task has no tunnel.
type Down struct {
	Since  time.Time
	Reason string
	// Unreachable is true past the grace period.
	Unreachable bool
}

func (d *Down) Error() string {
	if d.Unreachable {
		return fmt.Sprintf("unreachable since %s: %s", d.Since.Local().Format("15:04:05"), d.Reason)
	}
	return fmt.Sprintf("its job's tunnel is away (%s ago: %s); the job dials it again", time.Since(d.Since).Round(time.Second), d.Reason)
}

// Status reports whether task id is without its tunnel: nil when it has
// one or is not tracked.
func (r *Registry) Status(id string) *Down {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.downLocked(id)
}

func (r *Registry) downLocked(id string) *Down {
	sl := r.m[id]
	if sl == nil || sl.s != nil && !sl.s.IsClosed() {
		return nil
	}
	if sl.s != nil {
		r.lostLocked(id, sl)
	}
	return &Down{Since: sl.since, Reason: sl.reason, Unreachable: time.Since(sl.since) >= r.Grace}
}

// Open counts the tasks that have a live tunnel.
func (r *Registry) Open() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, sl := range r.m {
		if sl.s != nil && !sl.s.IsClosed() {
			n++
		}
	}
	return n
}

// Connected reports whether task id has a live tunnel.
func (r *Registry) Connected(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	sl := r.m[id]
	return sl != nil && sl.s != nil && !sl.s.IsClosed()
}

// Dial opens a connection to task id's job through its tunnel. A tunnel
// that is away is waited for (up to Wait, within ctx) unless the task is
// already unreachable; the error is then a *Down.
func (r *Registry) Dial(ctx context.Context, id string) (net.Conn, error) {
	var timeout <-chan time.Time
	for {
		r.mu.Lock()
		sl := r.m[id]
		if sl == nil {
			r.mu.Unlock()
			return nil, &Down{Since: time.Now(), Reason: "the job has not opened its tunnel"}
		}
		if d := r.downLocked(id); d != nil {
			up := sl.up
			r.mu.Unlock()
			if d.Unreachable {
				return nil, d
			}
			if timeout == nil {
				t := time.NewTimer(r.Wait)
				defer t.Stop()
				timeout = t.C
			}
			select {
			case <-up:
				continue
			case <-timeout:
				return nil, d
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		s := sl.s
		r.mu.Unlock()
		c, err := s.Open()
		if err == nil {
			return c, nil
		}
		if !s.IsClosed() {
			return nil, fmt.Errorf("open a connection in the tunnel: %w", err)
		}
	}
}

// Retain forgets, and closes the tunnels of, the tasks not in keep.
func (r *Registry) Retain(keep map[string]bool) {
	r.mu.Lock()
	var gone []*Session
	for id, sl := range r.m {
		if !keep[id] {
			if sl.s != nil {
				gone = append(gone, sl.s)
			}
			delete(r.m, id)
		}
	}
	r.mu.Unlock()
	for _, s := range gone {
		s.Close()
	}
}
