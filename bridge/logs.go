package bridge

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// handleLogs answers GET /api/v1/tasks/{id}/logs (Determined's TaskLogs):
// the bridge's events of the task and its job's output, merged in time
// order, one {"result": v1TaskLogsResponse} per line.
//
//   - limit=N sends the first N lines (0: all).
//   - orderBy=ORDER_BY_DESC sends the last N lines (at most maxTail)
//     newest first, as Determined's CLI reverses what it gets for --tail.
//   - follow=true goes on until the task has ended and all is sent, then
//     closes the stream. With orderBy=ORDER_BY_DESC and a limit it starts
//     with the last N lines, oldest first, and goes on (a follower needs
//     the order of time; Determined's CLI never asks for both).
//   - The filters of parseLogQuery apply before the limit.
func (s *Server) handleLogs(w http.ResponseWriter, r *http.Request) {
	t, ok := s.lookup(w, r)
	if !ok {
		return
	}
	q, err := parseLogQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	if q.desc && !q.follow {
		s.sendNewestFirst(w, r, t, &q)
		return
	}
	s.streamLogs(w, r, t, &q)
}

// tailSize is the number of last lines a DESC request asks for.
func (q *logQuery) tailSize() int {
	if q.limit == 0 || q.limit > maxTail {
		return maxTail
	}
	return q.limit
}

// sendNewestFirst sends the last lines of the log, newest first.
func (s *Server) sendNewestFirst(w http.ResponseWriter, r *http.Request, t *store.Task, q *logQuery) {
	cur, err := s.store.GetTask(r.Context(), t.ID)
	if err != nil {
		return
	}
	keep := func(l logLine) bool { return q.matches(shapeLog(cur, l)) }
	events, err := s.store.Events(r.Context(), t.ID, 0)
	if err != nil {
		return
	}
	n := q.tailSize()
	var lines []logLine
	for _, e := range events {
		if l := eventLine(e); keep(l) {
			lines = append(lines, l)
		}
	}
	out := &outputReader{dir: t.JobDir}
	out.fromEnd()
	lines = append(lines, out.tailLines(n, true, keep)...)
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].time.Before(lines[j].time) })
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	slices.Reverse(lines)
	enc := json.NewEncoder(w)
	for _, l := range lines {
		if enc.Encode(api.TaskLogsLine{Result: shapeLog(cur, l)}) != nil {
			return
		}
	}
}

// streamLogs sends the log oldest first and, with follow, what is added
// until the task has ended.
func (s *Server) streamLogs(w http.ResponseWriter, r *http.Request, t *store.Task, q *logQuery) {
	head, tail := q.limit, 0
	if q.desc {
		head, tail = 0, q.tailSize()
	}
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	out := &outputReader{dir: t.JobDir}
	if tail > 0 {
		out.fromEnd()
	}
	var lastEvent int64
	sent := 0
	for first := true; ; first = false {
		cur, err := s.store.GetTask(r.Context(), t.ID)
		if err != nil {
			return
		}
		keep := func(l logLine) bool { return q.matches(shapeLog(cur, l)) }
		ended := api.Terminal(cur.State)
		events, err := s.store.Events(r.Context(), t.ID, lastEvent)
		if err != nil {
			return
		}
		var batch []logLine
		for _, e := range events {
			lastEvent = e.ID
			if l := eventLine(e); keep(l) {
				batch = append(batch, l)
			}
		}
		final := ended || !q.follow
		if first && tail > 0 {
			batch = append(batch, out.tailLines(tail, final, keep)...)
		} else {
			for _, l := range out.batch(final) {
				if keep(l) {
					batch = append(batch, l)
				}
			}
		}
		sort.SliceStable(batch, func(i, j int) bool { return batch[i].time.Before(batch[j].time) })
		if first && tail > 0 && len(batch) > tail {
			batch = batch[len(batch)-tail:]
		}
		for _, l := range batch {
			if head > 0 && sent >= head {
				return
			}
			if enc.Encode(api.TaskLogsLine{Result: shapeLog(cur, l)}) != nil {
				return
			}
			sent++
		}
		if flusher != nil {
			flusher.Flush()
		}
		if head > 0 && sent >= head {
			return
		}
		if out.more {
			continue // more of the file is there already
		}
		if !q.follow || ended {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}
