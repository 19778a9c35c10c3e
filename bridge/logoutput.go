package bridge

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/jobdir"
)

// logLine is one line of a task's log before it takes the API's shape.
type logLine struct {
	time   time.Time
	source string // api.LogSourceBridge or api.LogSourceJob
	text   string // without its "\n"
	id     string // unique in the task, the same in every request
	level  string
}

// Bounds on reading a job's output file, which its user controls: a read
// takes at most readChunk bytes, a line at most maxLine (longer ones are
// cut), and one answer's batch of job lines about batchBytes; a tail
// starts at most tailWindow from the end and holds at most maxTail lines.
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
// the time of the line before. A line's id is "job-" and the file offset
// where it starts.
type outputReader struct {
	dir       string
	offset    int64 // the next byte to read
	partial   string
	partialAt int64 // the file offset where partial starts
	last      time.Time
	skip      bool // drop text up to the first newline (a tail's cut line)
	more      bool // the last read stopped before the file's end
}

// fromEnd starts the reader tailWindow before the file's end.
func (o *outputReader) fromEnd() {
	f, err := jobdir.Open(o.dir, "output.log")
	if err != nil {
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > tailWindow {
		o.offset, o.partialAt, o.skip = st.Size()-tailWindow, st.Size()-tailWindow, true
	}
}

// tailLines reads to the file's end and returns its last n lines that
// keep accepts, holding no more than that many at a time.
func (o *outputReader) tailLines(n int, final bool, keep func(logLine) bool) []logLine {
	var kept []logLine
	for {
		for _, l := range o.next(final) {
			if keep(l) {
				kept = append(kept, l)
			}
		}
		if len(kept) > n {
			kept = append(kept[:0:0], kept[len(kept)-n:]...)
		}
		if !o.more {
			return kept
		}
	}
}

// batch returns the lines next gives until the file's end or about
// batchBytes of them.
func (o *outputReader) batch(final bool) []logLine {
	var lines []logLine
	size := 0
	for {
		got := o.next(final)
		for _, l := range got {
			size += len(l.text) + 64
		}
		lines = append(lines, got...)
		if !o.more || size >= batchBytes {
			return lines
		}
	}
}

// next returns the whole lines added since the last call (at most
// readChunk bytes of them); with final, an unterminated last line too.
func (o *outputReader) next(final bool) []logLine {
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
			o.partialAt += int64(len(data))
			return nil
		}
		data, o.skip = data[i+1:], false
		o.partialAt += int64(i + 1)
	}
	parts := strings.Split(o.partial+string(data), "\n")
	at := o.partialAt
	type piece struct {
		text string
		at   int64
	}
	pieces := make([]piece, 0, len(parts))
	for _, p := range parts[:len(parts)-1] {
		pieces = append(pieces, piece{p, at})
		at += int64(len(p)) + 1
	}
	o.partial = parts[len(parts)-1]
	for len(o.partial) > maxLine { // a line without end is cut, not kept growing
		pieces = append(pieces, piece{o.partial[:maxLine], at})
		o.partial, at = o.partial[maxLine:], at+maxLine
	}
	if final && !o.more && o.partial != "" {
		pieces = append(pieces, piece{o.partial, at})
		at += int64(len(o.partial))
		o.partial = ""
	}
	o.partialAt = at
	lines := make([]logLine, 0, len(pieces))
	for _, p := range pieces {
		text := p.text
		if len(text) > maxLine {
			text = text[:maxLine]
		}
		ts, msg := splitStamp(text)
		if !ts.IsZero() {
			o.last = ts
		}
		lines = append(lines, logLine{time: o.last, source: api.LogSourceJob, text: msg, id: "job-" + strconv.FormatInt(p.at, 10), level: api.LogLevelInfo})
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
