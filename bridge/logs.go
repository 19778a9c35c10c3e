package bridge

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/det-slurm/bridge/bridge/api"
)

// handleLogs streams a task's bridge events and job output as JSON lines;
// with follow=true it goes on until the task has ended and all is sent.
func (s *Server) handleLogs(w http.ResponseWriter, r *http.Request) {
	t, ok := s.lookup(w, r)
	if !ok {
		return
	}
	follow := r.URL.Query().Get("follow") == "true" || r.URL.Query().Get("follow") == "1"
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	var lastEvent int64
	var offset int64
	var partial string
	outPath := filepath.Join(t.JobDir, "output.log")
	for {
		cur, err := s.store.GetTask(r.Context(), t.ID)
		if err != nil {
			return
		}
		ended := api.Terminal(cur.State)
		events, err := s.store.Events(r.Context(), t.ID, lastEvent)
		if err != nil {
			return
		}
		for _, e := range events {
			lastEvent = e.ID
			if enc.Encode(api.LogLine{Time: e.Time.UTC(), Source: "bridge", Message: e.Message}) != nil {
				return
			}
		}
		var lines []string
		lines, offset, partial = readNewLines(outPath, offset, partial)
		now := time.Now().UTC()
		for _, l := range lines {
			if enc.Encode(api.LogLine{Time: now, Source: "job", Message: l}) != nil {
				return
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		if !follow || ended {
			if partial != "" {
				_ = enc.Encode(api.LogLine{Time: now, Source: "job", Message: partial})
			}
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// readNewLines reads whole lines added to path since offset.
func readNewLines(path string, offset int64, partial string) ([]string, int64, string) {
	f, err := os.Open(path)
	if err != nil {
		return nil, offset, partial
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, offset, partial
	}
	data, err := io.ReadAll(bufio.NewReader(io.LimitReader(f, 8<<20)))
	if err != nil {
		return nil, offset, partial
	}
	offset += int64(len(data))
	text := partial + string(data)
	parts := strings.Split(text, "\n")
	return parts[:len(parts)-1], offset, parts[len(parts)-1]
}
