package launcher

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/det-slurm/bridge/jobspec"
)

func TestParseScontrolJob(t *testing.T) {
	out := "JobId=41 JobName=det-notebook-x UserId=alice(2001) JobState=RUNNING Reason=None Requeue=1 Restarts=2 BatchFlag=1 " +
		"StartTime=2026-01-01T10:00:00 EndTime=2026-01-01T10:00:40 PreemptEligibleTime=2026-01-01T10:00:00 PreemptTime=2026-01-01T10:00:30 " +
		"Comment=JobState=COMPLETED PreemptTime=None\n"
	j := parseScontrolJob(out)
	if j.State != "RUNNING" || j.PreemptTime != "2026-01-01T10:00:30" || j.Restarts != 2 || !j.Requeue || j.EndTime != "2026-01-01T10:00:40" || !j.preempted() {
		t.Fatalf("%+v", j)
	}
	if j := parseScontrolJob("JobId=41 JobState=RUNNING Requeue=0 PreemptTime=None"); j.preempted() || j.Requeue {
		t.Fatalf("not preempted: %+v", j)
	}
	if j := parseScontrolJob("JobId=41 JobState=PREEMPTED Requeue=0 PreemptTime=None"); !j.preempted() {
		t.Fatalf("cancelled by a preemption: %+v", j)
	}
}

// fakeNotebookServer serves Jupyter's sessions and checkpoints on a Unix
// socket and records the checkpoints made.
func fakeNotebookServer(t *testing.T, sessions string) (*http.Client, *[]string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "j.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var made []string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token tok" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/proxy/x/api/sessions":
			io.WriteString(w, sessions)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.EscapedPath(), "/checkpoints"):
			mu.Lock()
			made = append(made, strings.TrimPrefix(r.URL.EscapedPath(), "/proxy/x/api/contents/"))
			mu.Unlock()
			w.WriteHeader(http.StatusCreated)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return unixClient(sock, 0), &made
}

func TestCheckpointOpen(t *testing.T) {
	c, made := fakeNotebookServer(t, `[{"path":"work/a b.ipynb","type":"notebook"},{"path":"work/a b.ipynb","type":"notebook"},
		{"path":"console-1","type":"console"},{"notebook":{"path":"old.ipynb"}}]`)
	kept, err := checkpointOpen(context.Background(), c, "http://localhost/proxy/x/", "tok")
	if err != nil || strings.Join(kept, ",") != "work/a b.ipynb,old.ipynb" {
		t.Fatalf("kept %v %v", kept, err)
	}
	if strings.Join(*made, ",") != "work/a%20b.ipynb/checkpoints,old.ipynb/checkpoints" {
		t.Fatalf("checkpoints %v", *made)
	}
}

// TestEndingSignals: a warning or a SIGTERM in a preemption's grace time
// keeps the notebook server up; a SIGTERM after it, or of a job that is
// not preempted, stops it; the open notebooks are checkpointed once.
func TestEndingSignals(t *testing.T) {
	c, made := fakeNotebookServer(t, `[{"path":"a.ipynb","type":"notebook"}]`)
	var logs strings.Builder
	e := &ending{spec: &jobspec.Spec{BaseURL: "/proxy/x/", JupyterToken: "tok"}, jc: c, log: slog.New(slog.NewTextHandler(&logs, nil)), ready: true}
	job := slurmJob{State: "RUNNING", PreemptTime: "2026-01-01T10:00:30", EndTime: "2026-01-01T10:00:40", Requeue: true}
	e.query = func(context.Context) (slurmJob, error) { return job, nil }
	ctx := context.Background()
	if e.onSignal(ctx, syscall.SIGUSR1) || e.onSignal(ctx, syscall.SIGTERM) {
		t.Fatal("a signal within the grace time stopped the notebook server")
	}
	job.State = "COMPLETING"
	if !e.onSignal(ctx, syscall.SIGTERM) {
		t.Fatal("the SIGTERM at the grace time's end was not passed on")
	}
	if len(*made) != 1 {
		t.Errorf("checkpoints %v, want one", *made)
	}
	for _, want := range []string{"preempted: Slurm takes this job's resources", "the job is requeued and the notebook comes back", "checkpointed the open notebooks", "a.ipynb"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}

	// Slurm's record shows the preemption a moment after the signal.
	logs.Reset()
	e = &ending{spec: e.spec, jc: c, log: e.log, ready: true, recheck: time.Millisecond}
	asked := 0
	e.query = func(context.Context) (slurmJob, error) {
		asked++
		if asked < 3 {
			return slurmJob{State: "RUNNING", PreemptTime: "None"}, nil
		}
		return slurmJob{State: "RUNNING", PreemptTime: "2026-01-01T10:00:30", Requeue: true}, nil
	}
	if e.onSignal(ctx, syscall.SIGUSR1) || !strings.Contains(logs.String(), "preempted: Slurm takes this job's resources") {
		t.Fatalf("a preemption shown late was taken for something else (asked %d times): %s", asked, logs.String())
	}

	logs.Reset()
	e = &ending{spec: e.spec, jc: c, log: e.log, ready: true}
	e.query = func(context.Context) (slurmJob, error) { return slurmJob{}, errors.New("no scontrol") }
	if e.onSignal(ctx, syscall.SIGUSR1) {
		t.Fatal("a time-limit warning stopped the notebook server")
	}
	if !e.onSignal(ctx, syscall.SIGTERM) || !e.onSignal(ctx, syscall.SIGINT) {
		t.Fatal("a plain stop was not passed on")
	}
	if !strings.Contains(logs.String(), "time limit is near") {
		t.Errorf("log:\n%s", logs.String())
	}
	job = slurmJob{State: "PREEMPTED", Requeue: false}
	e.query = func(context.Context) (slurmJob, error) { return job, nil }
	logs.Reset()
	if !e.onSignal(ctx, syscall.SIGTERM) || !strings.Contains(logs.String(), "its pool does not requeue") {
		t.Fatalf("preempted without requeue: %s", logs.String())
	}
}

// TestRerunKeepsTheWorkingFolder: a requeued job's run drops the earlier
// exit record and does not unpack the context over the user's files.
func TestRerunKeepsTheWorkingFolder(t *testing.T) {
	dir := t.TempDir()
	spec := &jobspec.Spec{JobDir: dir}
	os.WriteFile(filepath.Join(dir, "exit.json"), []byte(`{"exit_code":143}`), 0o600)
	t.Setenv("SLURM_RESTART_COUNT", "1")
	var logs strings.Builder
	release := beginRun(spec, slog.New(slog.NewTextHandler(&logs, nil)))
	defer release()
	if _, err := os.Stat(filepath.Join(dir, "exit.json")); !os.IsNotExist(err) {
		t.Errorf("the earlier run's exit record is still there: %v", err)
	}
	if !strings.Contains(logs.String(), "Slurm requeued this job (restart 1)") {
		t.Errorf("log: %s", logs.String())
	}
	if contextUnpacked(spec) {
		t.Fatal("unpacked before anything was")
	}
	if err := markContextUnpacked(spec); err != nil || !contextUnpacked(spec) {
		t.Fatalf("marker: %v", err)
	}
}
