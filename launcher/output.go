package launcher

import (
	"bufio"
	"io"
	"strings"
	"sync"
	"time"
)

// outputWatch copies the notebook server's output to the job's log, each
// line stamped with its time (RFC 3339), while remembering its last lines
// and whether a marker line went by.
type outputWatch struct {
	dst    io.Writer
	marker string
	keep   int

	mu      sync.Mutex
	lines   []string
	seen    bool
	alarm   string
	alarmed chan struct{}
}

func newOutputWatch(dst io.Writer, marker string, keep int) *outputWatch {
	return &outputWatch{dst: dst, marker: marker, keep: keep}
}

// watchFor returns a channel that is closed once a line containing s has
// gone by. Call it before copy.
func (o *outputWatch) watchFor(s string) <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.alarm, o.alarmed = s, make(chan struct{})
	return o.alarmed
}

// copy reads r to its end.
func (o *outputWatch) copy(r io.ReadCloser) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			if !strings.HasSuffix(line, "\n") {
				line += "\n"
			}
			_, _ = io.WriteString(o.dst, time.Now().UTC().Format(time.RFC3339Nano)+" "+line)
			o.note(strings.TrimRight(line, "\r\n"))
		}
		if err != nil {
			return
		}
	}
}

func (o *outputWatch) note(line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.alarmed != nil && strings.Contains(line, o.alarm) {
		close(o.alarmed)
		o.alarmed = nil
	}
	if line == o.marker {
		o.seen = true
		return
	}
	if strings.TrimSpace(line) == "" {
		return
	}
	o.lines = append(o.lines, line)
	if len(o.lines) > o.keep {
		o.lines = o.lines[len(o.lines)-o.keep:]
	}
}

func (o *outputWatch) sawMarker() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen
}

// tail returns the last lines, joined by " | ".
func (o *outputWatch) tail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := min(len(o.lines), 5)
	return strings.Join(o.lines[len(o.lines)-n:], " | ")
}
