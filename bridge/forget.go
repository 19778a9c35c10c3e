package bridge

import (
	"sync"
	"time"

	"github.com/det-slurm/bridge/bridge/store"
)

// What the bridge keeps in memory per task is let go when the task ends,
// so a bridge that runs for months holds what its live tasks need and no
// more. forgetTask runs as a task ends; forgetEnded, on every reconcile
// tick, catches what a request racing the end put back.

// routeKeep is how long the route of a terminated task is kept, so that
// its open pages are told why it ended (410 and the reason) rather than
// that it does not exist; after a restart such routes are gone at once.
const routeKeep = 10 * time.Minute

// endedRoutes are the terminated tasks whose routes are still kept, oldest
// first.
type endedRoutes struct {
	mu sync.Mutex
	q  []endedRoute
}

type endedRoute struct {
	id string
	at time.Time
}

func (e *endedRoutes) add(id string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.q = append(e.q, endedRoute{id, at})
}

// due removes and returns the ids that ended routeKeep or longer before now.
func (e *endedRoutes) due(now time.Time) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for n < len(e.q) && now.Sub(e.q[n].at) >= routeKeep {
		n++
	}
	if n == 0 {
		return nil
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.q[i].id
	}
	e.q = append(e.q[:0:0], e.q[n:]...)
	return ids
}

// forgetTask lets go of what is kept for a task that has just ended.
func (s *Server) forgetTask(id string, now time.Time) {
	s.reports.drop(id)
	s.view.forget(id)
	s.tunnels.Forget(id)
	s.ended.add(id, now)
}

// forgetEnded keeps per-task memory to the live tasks, and drops the
// routes of tasks that ended routeKeep ago.
func (s *Server) forgetEnded(live []*store.Task, now time.Time) {
	keep := make(map[string]bool, len(live))
	for _, t := range live {
		keep[t.ID] = true
	}
	s.reports.retain(keep)
	s.view.retain(keep)
	s.tunnels.Retain(keep)
	for _, id := range s.ended.due(now) {
		if !keep[id] {
			s.routes.Delete(id)
		}
	}
}

// retain drops the reports of tasks not in keep.
func (r *reports) retain(keep map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.m {
		if !keep[id] {
			delete(r.m, id)
		}
	}
}

// forget drops what the view keeps of one task.
func (v *slurmView) forget(id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.warned, id)
	delete(v.cancelled, id)
	delete(v.ends, id)
}

// retain drops what the view keeps of tasks not in keep.
func (v *slurmView) retain(keep map[string]bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for id := range v.warned {
		if !keep[id] {
			delete(v.warned, id)
		}
	}
	for id := range v.cancelled {
		if !keep[id] {
			delete(v.cancelled, id)
		}
	}
	for id := range v.ends {
		if !keep[id] {
			delete(v.ends, id)
		}
	}
}
