package bridge

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/slurm"
)

// logTask starts a notebook, runs it on r1-gpu01-ib, adds a warning and
// writes five stamped lines of job output (after every event in time).
// With ended, the task is then killed and TERMINATED.
func logTask(t *testing.T, h *harness, ended bool) string {
	t.Helper()
	nb := h.start(nil)
	h.running(nb.ID, "r1-gpu01-ib")
	if err := h.srv.store.AddEvent(context.Background(), nb.ID, "warning: the job's time limit ends in 4m0s; save your work"); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(time.Hour).UTC()
	var b strings.Builder
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&b, "%s line-%d\n", base.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), i)
	}
	h.writeOutput(nb.ID, b.String())
	if ended {
		h.do("POST", "/api/v1/notebooks/"+nb.ID+"/kill", nil, nil, http.StatusOK)
		h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "CANCELLED"}
		h.srv.reconcile(context.Background())
	}
	return nb.ID
}

// readLogs decodes a log stream: one {"result": ...} per line, no blank
// lines.
func readLogs(t *testing.T, body string) []api.TaskLog {
	t.Helper()
	var out []api.TaskLog
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || len(m) != 1 || m["result"] == nil {
			t.Fatalf("stream line %q is not {\"result\": ...}: %v", sc.Text(), err)
		}
		var l api.TaskLog
		if err := json.Unmarshal(m["result"], &l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

func (h *harness) logs(id, query string) []api.TaskLog {
	h.t.Helper()
	w := h.req("GET", "/api/v1/tasks/"+id+"/logs?"+query, nil, nil)
	if w.Code != http.StatusOK {
		h.t.Fatalf("logs?%s: %d %s", query, w.Code, w.Body)
	}
	return readLogs(h.t.(*testing.T), w.Body.String())
}

func logTexts(ls []api.TaskLog) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = strings.TrimSuffix(l.Log, "\n")
	}
	return out
}

// TestLogsShape: each line is Determined's v1TaskLogsResponse: required
// fields, the line with its "\n" in log and message, the job's lines from
// the node and the Slurm job, ids unique, oldest first.
func TestLogsShape(t *testing.T) {
	h := newHarness(t)
	id := logTask(t, h, true)
	w := h.req("GET", "/api/v1/tasks/"+id+"/logs", nil, nil)
	for _, line := range strings.Split(strings.TrimSuffix(w.Body.String(), "\n"), "\n") {
		var m map[string]map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		noNulls(t, "line", m)
		fieldKinds(t, "log line", m["result"], map[string]string{"id": "string", "level": "string", "log": "string", "message": "string",
			"taskId": "string", "timestamp": "string", "agentId": "string", "allocationId": "string", "containerId": "string", "source": "string", "stdtype": "string"})
	}
	ls := readLogs(t, w.Body.String())
	ids := map[string]bool{}
	var jobLines int
	for i, l := range ls {
		if ids[l.ID] {
			t.Errorf("id %s twice", l.ID)
		}
		ids[l.ID] = true
		if i > 0 && l.Timestamp.Before(ls[i-1].Timestamp) {
			t.Errorf("line %d is older than the one before", i)
		}
		if !strings.HasSuffix(l.Log, "\n") || !strings.HasSuffix(l.Message, l.Log) || !strings.HasPrefix(l.Message, "[") {
			t.Errorf("log %q message %q", l.Log, l.Message)
		}
		if l.TaskID != id || l.AllocationID != id+".1" {
			t.Errorf("line of %s / %s", l.TaskID, l.AllocationID)
		}
		switch l.Source {
		case api.LogSourceJob:
			jobLines++
			if l.AgentID != "r1-gpu01-ib" || l.ContainerID != "101" || l.Level != api.LogLevelInfo || !strings.HasPrefix(l.ID, "job-") {
				t.Errorf("job line %+v", l)
			}
		case api.LogSourceBridge:
			if l.AgentID != "" || !strings.HasPrefix(l.ID, "bridge-") || !strings.Contains(l.Message, "[bridge] || ") {
				t.Errorf("bridge line %+v", l)
			}
			if strings.HasPrefix(l.Log, "warning:") != (l.Level == api.LogLevelWarning) {
				t.Errorf("level %s of %q", l.Level, l.Log)
			}
		default:
			t.Errorf("source %q", l.Source)
		}
	}
	if jobLines != 5 || !strings.HasPrefix(ls[len(ls)-1].Log, "line-5") {
		t.Errorf("%d job lines, last %q", jobLines, ls[len(ls)-1].Log)
	}
	// A job line's id is where it starts in the output file.
	task, _ := h.srv.store.GetTask(context.Background(), id)
	data, err := os.ReadFile(filepath.Join(task.JobDir, "output.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	if want := fmt.Sprintf("job-%d", len(data)-len(lines[len(lines)-2])); ls[len(ls)-1].ID != want {
		t.Errorf("the last line's id is %s, want %s", ls[len(ls)-1].ID, want)
	}
}

// TestLogsLimitAndTail: limit=N is the first N lines; ORDER_BY_DESC with
// a limit the last N, newest first (Determined's CLI reverses them for
// --tail); with follow, the last N oldest first and then the rest.
func TestLogsLimitAndTail(t *testing.T) {
	h := newHarness(t)
	id := logTask(t, h, true)
	all := logTexts(h.logs(id, ""))
	if got := logTexts(h.logs(id, "limit=2")); strings.Join(got, "|") != strings.Join(all[:2], "|") {
		t.Errorf("limit=2: %q, want %q", got, all[:2])
	}
	tail := logTexts(h.logs(id, "limit=3&orderBy=ORDER_BY_DESC&follow=false"))
	want := []string{all[len(all)-1], all[len(all)-2], all[len(all)-3]}
	if strings.Join(tail, "|") != strings.Join(want, "|") {
		t.Errorf("the last 3, newest first: %q, want %q", tail, want)
	}
	if got := logTexts(h.logs(id, "limit=3&orderBy=ORDER_BY_DESC&follow=true")); strings.Join(got, "|") != strings.Join(all[len(all)-3:], "|") {
		t.Errorf("follow from the last 3: %q, want %q", got, all[len(all)-3:])
	}
	if got := h.logs(id, "orderBy=ORDER_BY_DESC"); len(got) != len(all) || strings.TrimSuffix(got[0].Log, "\n") != all[len(all)-1] {
		t.Errorf("all, newest first: %d lines, first %q", len(got), got[0].Log)
	}
	// The ids of a tail are those of the whole log.
	full, last := h.logs(id, ""), h.logs(id, "limit=1&orderBy=ORDER_BY_DESC")
	if full[len(full)-1].ID != last[0].ID {
		t.Errorf("the last line's id: %s in the whole log, %s in a tail", full[len(full)-1].ID, last[0].ID)
	}
}

// TestLogsFollowEnds: a followed stream goes on while the task lives,
// sends what is added, and closes once the task has ended.
func TestLogsFollowEnds(t *testing.T) {
	h := newHarness(t)
	id := logTask(t, h, false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := httptest.NewRequest("GET", "/api/v1/tasks/"+id+"/logs?follow=true", nil).WithContext(ctx)
	r.Header.Set("Authorization", "Bearer "+h.token)
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { h.h.ServeHTTP(w, r); close(done) }()
	select {
	case <-done:
		t.Fatal("the stream of a live task ended")
	case <-time.After(1200 * time.Millisecond):
	}
	h.do("POST", "/api/v1/notebooks/"+id+"/kill", nil, nil, http.StatusOK)
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "CANCELLED"}
	h.srv.reconcile(context.Background())
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cancel()
		<-done
		t.Fatal("the stream did not end after the task ended")
	}
	ls := readLogs(t, w.Body.String())
	if !strings.Contains(strings.Join(logTexts(ls), "\n"), "terminated: killed by user") {
		t.Errorf("the followed stream lacks the end: %q", logTexts(ls))
	}
}

// TestLogsFilters: Determined's filters, and bad parameters refused.
func TestLogsFilters(t *testing.T) {
	h := newHarness(t)
	id := logTask(t, h, true)
	all := h.logs(id, "")
	after := all[len(all)-3].Timestamp.Format(time.RFC3339Nano)
	for q, want := range map[string]int{
		"levels=LOG_LEVEL_WARNING":                        1,
		"levels=LOG_LEVEL_WARNING&levels=LOG_LEVEL_ERROR": 1,
		"sources=job":         5,
		"sources=job&limit=2": 2,
		"searchText=line-":    5,
		"searchText=line-%5B24%5D&enableRegex=true": 2,
		"timestampAfter=" + url.QueryEscape(after):  2,
		"rankIds=0":                  0,
		"agentIds=r1-gpu01-ib":       5,
		"containerIds=999":           0,
		"allocationIds=" + id + ".1": len(all),
	} {
		if got := h.logs(id, q); len(got) != want {
			t.Errorf("?%s: %d lines, want %d: %q", q, len(got), want, logTexts(got))
		}
	}
	for _, q := range []string{"orderBy=UP", "limit=-1", "limit=x", "follow=maybe", "timestampAfter=yesterday", "searchText=(&enableRegex=true"} {
		if w := h.req("GET", "/api/v1/tasks/"+id+"/logs?"+q, nil, nil); w.Code != http.StatusBadRequest {
			t.Errorf("?%s: %d, want 400", q, w.Code)
		}
	}
}

// TestEventLevel: the bridge's warnings and failed ends stand out.
func TestEventLevel(t *testing.T) {
	for msg, want := range map[string]string{
		"submitted as Slurm job 7 to partition gpu":                 api.LogLevelInfo,
		"warning: the job's time limit ends in 4m0s":                api.LogLevelWarning,
		"terminated: killed by user":                                api.LogLevelInfo,
		"terminated: failed to start: no such image":                api.LogLevelError,
		"terminated: exited with code 1":                            api.LogLevelError,
		"terminated: exited with code 0":                            api.LogLevelInfo,
		"terminated: node failure":                                  api.LogLevelError,
		"terminated: " + reasonHalfDone:                             api.LogLevelError,
		"notebook server ended with code 137: killed":               api.LogLevelError,
		"notebook server ended with code 0: the server has stopped": api.LogLevelInfo,
	} {
		if got := eventLevel(msg); got != want {
			t.Errorf("eventLevel(%q) = %s, want %s", msg, got, want)
		}
	}
}
