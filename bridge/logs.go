package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
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
	tail = min(tail, maxTail)
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
		if first && tail > 0 {
			batch = append(batch, out.tailLines(tail, ended || !follow)...)
		} else {
			batch = append(batch, out.batch(ended || !follow)...)
		}
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
		if out.more {
			continue // more of the file is there already
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

// Bounds on reading a job's output file, which its user controls: a read
// takes at most readChunk bytes, a line at most maxLine (longer ones are
// cut), and one answer's batch of job lines about batchBytes; tail=N
// starts at most tailWindow from the end.
const (
	readChunk  = 1 << 20
	maxLine    = 64 << 10
	batchBytes = 4 << 20
	tailWindow = 4 << 20
	maxTail    = 10_000
	maxLines   = 4096 // per read
)

// nthIndex returns the index of the nth c in b, or -1.
func nthIndex(b []byte, c byte, n int) int {
	off := 0
	for i := 0; i < n; i++ {
		j := bytes.IndexByte(b[off:], c)
		if j < 0 {
			return -1
		}
		off += j + 1
	}
	return off - 1
}

// outputReader reads the lines added to a job's output file. The launcher
// stamps each line with its time; lines without a stamp (Slurm's own) take
// the time of the line before.
type outputReader struct {
	dir     string
	offset  int64
	partial string
	last    time.Time
	skip    bool // drop text up to the first newline (a tail's cut line)
	more    bool // the last read stopped before the file's end
}

// fromEnd starts the reader tailWindow before the file's end.
func (o *outputReader) fromEnd() {
	f, err := jobdir.Open(o.dir, "output.log")
	if err != nil {
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > tailWindow {
		o.offset, o.skip = st.Size()-tailWindow, true
	}
}

// tailLines reads to the file's end and returns its last n lines, holding
// no more than that many at a time.
func (o *outputReader) tailLines(n int, final bool) []api.LogLine {
	var keep []api.LogLine
	for {
		keep = append(keep, o.next(final)...)
		if len(keep) > n {
			keep = append(keep[:0:0], keep[len(keep)-n:]...)
		}
		if !o.more {
			return keep
		}
	}
}

// batch returns the lines next gives until the file's end or about
// batchBytes of them.
func (o *outputReader) batch(final bool) []api.LogLine {
	var lines []api.LogLine
	size := 0
	for {
		got := o.next(final)
		for _, l := range got {
			size += len(l.Message) + 64
		}
		lines = append(lines, got...)
		if !o.more || size >= batchBytes {
			return lines
		}
	}
}

// next returns the whole lines added since the last call (at most
// readChunk bytes of them); with final, an unterminated last line too.
func (o *outputReader) next(final bool) []api.LogLine {
	o.more = false
	f, err := jobdir.Open(o.dir, "output.log")
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	if o.last.IsZero() {
		o.last = st.ModTime().UTC()
	}
	if _, err := f.Seek(o.offset, io.SeekStart); err != nil {
		return nil
	}
	// Only what is there: a follower polling a quiet file allocates nothing.
	buf := make([]byte, min(readChunk, max(0, st.Size()-o.offset)))
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	data := buf[:n]
	o.more = n == readChunk
	if cut := nthIndex(data, '\n', maxLines); cut >= 0 && cut+1 < len(data) {
		data, o.more = data[:cut+1], true // the rest next time
	}
	o.offset += int64(len(data))
	if o.skip {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil
		}
		data, o.skip = data[i+1:], false
	}
	parts := strings.Split(o.partial+string(data), "\n")
	o.partial = parts[len(parts)-1]
	parts = parts[:len(parts)-1]
	for len(o.partial) > maxLine { // a line without end is cut, not kept growing
		parts = append(parts, o.partial[:maxLine])
		o.partial = o.partial[maxLine:]
	}
	if final && !o.more && o.partial != "" {
		parts = append(parts, o.partial)
		o.partial = ""
	}
	lines := make([]api.LogLine, 0, len(parts))
	for _, p := range parts {
		if len(p) > maxLine {
			p = p[:maxLine]
		}
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
