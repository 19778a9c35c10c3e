package bridge

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/det-slurm/bridge/bridge/api"
	"github.com/det-slurm/bridge/bridge/jobdir"
)

// handleLogs streams a task's bridge events and job output, merged in time
// order, as JSON lines. tail=N starts with the last N lines, head=N sends
// only the first N; with follow=true it goes on until the task has ended
// and all is sent.
func (s *Server) handleLogs(w http.ResponseWriter, r *http.Request) {
	t, ok := s.lookup(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	follow := q.Get("follow") == "true" || q.Get("follow") == "1"
	head, _ := strconv.Atoi(q.Get("head"))
	tail, _ := strconv.Atoi(q.Get("tail"))
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	out := &outputReader{dir: t.JobDir}
	var lastEvent int64
	sent := 0
	for first := true; ; first = false {
		cur, err := s.store.GetTask(r.Context(), t.ID)
		if err != nil {
			return
		}
		ended := api.Terminal(cur.State)
		events, err := s.store.Events(r.Context(), t.ID, lastEvent)
		if err != nil {
			return
		}
		var batch []api.LogLine
		for _, e := range events {
			lastEvent = e.ID
			batch = append(batch, api.LogLine{Time: e.Time.UTC(), Source: "bridge", Message: e.Message})
		}
		batch = append(batch, out.next(ended || !follow)...)
		sort.SliceStable(batch, func(i, j int) bool { return batch[i].Time.Before(batch[j].Time) })
		if first && tail > 0 && len(batch) > tail {
			batch = batch[len(batch)-tail:]
		}
		for _, l := range batch {
			if head > 0 && sent >= head {
				return
			}
			if enc.Encode(l) != nil {
				return
			}
			sent++
		}
		if flusher != nil {
			flusher.Flush()
		}
		if !follow || ended {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// outputReader reads the lines added to a job's output file. The launcher
// stamps each line with its time; lines without a stamp (Slurm's own) take
// the time of the line before.
type outputReader struct {
	dir     string
	offset  int64
	partial string
	last    time.Time
}

// next returns the whole lines added since the last call; with final, an
// unterminated last line too.
func (o *outputReader) next(final bool) []api.LogLine {
	f, err := jobdir.Open(o.dir, "output.log")
	if err != nil {
		return nil
	}
	defer f.Close()
	if o.last.IsZero() {
		if st, err := f.Stat(); err == nil {
			o.last = st.ModTime().UTC()
		}
	}
	if _, err := f.Seek(o.offset, io.SeekStart); err != nil {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(f, 8<<20))
	if err != nil {
		return nil
	}
	o.offset += int64(len(data))
	parts := strings.Split(o.partial+string(data), "\n")
	o.partial = parts[len(parts)-1]
	parts = parts[:len(parts)-1]
	if final && o.partial != "" {
		parts = append(parts, o.partial)
		o.partial = ""
	}
	lines := make([]api.LogLine, 0, len(parts))
	for _, p := range parts {
		ts, msg := splitStamp(p)
		if !ts.IsZero() {
			o.last = ts
		}
		lines = append(lines, api.LogLine{Time: o.last, Source: "job", Message: msg})
	}
	return lines
}

// splitStamp separates a leading RFC 3339 time stamp from a line.
func splitStamp(line string) (time.Time, string) {
	stamp, rest, ok := strings.Cut(line, " ")
	if !ok || len(stamp) < 20 || stamp[4] != '-' {
		return time.Time{}, line
	}
	ts, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil {
		return time.Time{}, line
	}
	return ts.UTC(), rest
}
