package launcher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/det-slurm/bridge/jobspec"
)

// How the launcher meets the end of its job. Slurm warns a job of a
// preemptible pool with SIGUSR1 (sbatch --signal=B:USR1@60) at the start
// of a preemption's grace time, where the site sends it then, and a minute
// before its time limit; it stops any job with SIGTERM (SIGKILL follows
// after KillWait). On either, the launcher asks Slurm why (scontrol show
// job: PreemptTime, JobState, Restarts), says so in the job's log, and has
// Jupyter keep what it can: a checkpoint of every open notebook as last
// saved. Jupyter's server holds no unsaved edits (the browser does), so
// those are not saved; kernels end with the job and their memory is gone.
// A SIGTERM within a preemption's grace time (the job still RUNNING) does
// not stop Jupyter: a job that ended by itself then would not be requeued.
// A requeued job runs this launcher again from the start, in the same job
// folder.

// restartCount is how often Slurm requeued this job before this run
// (SLURM_RESTART_COUNT; absent on the first run).
func restartCount() int {
	n, _ := strconv.Atoi(os.Getenv("SLURM_RESTART_COUNT"))
	return n
}

// contextMarker is the job folder's note that the context was unpacked
// into the working folder: a requeued job's next run finds the user's
// files there as they left them, and unpacks nothing over them.
const contextMarker = "context.unpacked"

// contextUnpacked reports whether an earlier run of the job unpacked the
// context.
func contextUnpacked(spec *jobspec.Spec) bool {
	_, err := os.Lstat(filepath.Join(spec.JobDir, contextMarker))
	return err == nil
}

// markContextUnpacked notes that the context is in the working folder.
func markContextUnpacked(spec *jobspec.Spec) error {
	f, err := os.OpenFile(filepath.Join(spec.JobDir, contextMarker), os.O_WRONLY|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("note the unpacked context: %w", err)
	}
	return f.Close()
}

// beginRun readies the job folder for this run of the job: the exit
// record of an earlier run (before a requeue) goes, and a rerun says what
// was lost. The returned function ends the run's hold on SIGUSR1, which
// otherwise kills a process, for runs that do not watch it (shells).
func beginRun(spec *jobspec.Spec, log *slog.Logger) func() {
	if err := os.Remove(filepath.Join(spec.JobDir, "exit.json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Warn("remove the exit record of an earlier run", "err", err)
	}
	if n := restartCount(); n > 0 {
		log.Info(fmt.Sprintf("Slurm requeued this job (restart %d): the notebook server starts afresh, so kernels of the earlier run are gone with their memory; "+
			"files in the working folder are kept", n))
	}
	return holdSignal(syscall.SIGUSR1)
}

// holdSignal catches sig until the returned function is called, so that
// it does not kill the process; what is caught is dropped.
func holdSignal(sig os.Signal) func() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sig)
	return func() { signal.Stop(ch) }
}

// slurmJob is what scontrol says of the launcher's own job.
type slurmJob struct {
	State       string // JobState
	PreemptTime string // "None" until Slurm preempts the job
	EndTime     string
	Restarts    int
	Requeue     bool
}

// preempted reports whether Slurm is preempting (or has preempted) the
// job.
func (j slurmJob) preempted() bool {
	return j.State == "PREEMPTED" || (j.PreemptTime != "" && j.PreemptTime != "None")
}

// parseScontrolJob reads `scontrol show job -o` output: Key=Value fields
// separated by spaces. Only fields Slurm sets are read, each by its first
// appearance (a user's own comment comes later in the line).
func parseScontrolJob(out string) slurmJob {
	var j slurmJob
	seen := map[string]bool{}
	for _, f := range strings.Fields(out) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || seen[k] {
			continue
		}
		seen[k] = true
		switch k {
		case "JobState":
			j.State = v
		case "PreemptTime":
			j.PreemptTime = v
		case "EndTime":
			j.EndTime = v
		case "Restarts":
			j.Restarts, _ = strconv.Atoi(v)
		case "Requeue":
			j.Requeue = v == "1"
		}
	}
	return j
}

// ownJob asks scontrol about the job this launcher runs in, on cluster
// ("" for the login node's own).
func ownJob(ctx context.Context, cluster string) (slurmJob, error) {
	id := os.Getenv("SLURM_JOB_ID")
	if id == "" {
		return slurmJob{}, errors.New("not in a Slurm job (no SLURM_JOB_ID)")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	args := []string{"show", "job", "-o", id}
	if cluster != "" {
		args = append([]string{"-M", cluster}, args...)
	}
	out, err := exec.CommandContext(ctx, "scontrol", args...).Output()
	if err != nil {
		return slurmJob{}, fmt.Errorf("scontrol show job %s: %w", id, err)
	}
	return parseScontrolJob(string(out)), nil
}

// ending handles the signals Slurm sends a notebook's launcher as its job
// ends.
type ending struct {
	spec *jobspec.Spec
	jc   *http.Client // Jupyter, on its socket
	log  *slog.Logger
	// query asks Slurm about the job; nil means ownJob.
	query func(context.Context) (slurmJob, error)
	// recheck is the pause between the rechecks of a SIGUSR1 (zero:
	// usr1RecheckEvery; negative: no rechecks). Tests shorten it.
	recheck time.Duration
	// ready is set once Jupyter answers: before, there is nothing to keep.
	ready bool
	saved bool
}

// onSignal says what sig means for the job, has Jupyter keep what it can,
// and reports whether sig is passed on to the notebook server (which then
// shuts down).
func (e *ending) onSignal(ctx context.Context, sig os.Signal) bool {
	if sig != syscall.SIGUSR1 && sig != syscall.SIGTERM {
		return true
	}
	q := e.query
	if q == nil {
		q = func(ctx context.Context) (slurmJob, error) { return ownJob(ctx, e.spec.Cluster) }
	}
	j, err := q(ctx)
	// Slurm may signal a preempted job a moment before its record shows
	// the preemption: a SIGUSR1 that looks like a time-limit warning is
	// asked about again, for a little while.
	for i := 0; sig == syscall.SIGUSR1 && err == nil && !j.preempted() && i < e.rechecks(); i++ {
		select {
		case <-ctx.Done():
		case <-time.After(e.recheckEvery()):
		}
		j, err = q(ctx)
	}
	if err != nil {
		e.log.Warn("cannot ask Slurm why the job ends", "err", err)
	}
	graceful := err == nil && j.preempted() && j.State == "RUNNING"
	switch {
	case sig == syscall.SIGUSR1 && err == nil && j.preempted():
		e.log.Info(fmt.Sprintf("preempted: Slurm takes this job's resources for a job of higher priority at %s; %s. Jupyter keeps what it can now; "+
			"kernels stop with the job and their memory is gone", j.EndTime, fate(j)))
	case sig == syscall.SIGUSR1:
		e.log.Info("Slurm warns that the job's time limit is near: Jupyter keeps what it can now; save your work")
	case graceful:
		e.log.Info(fmt.Sprintf("preempted: the notebook server keeps running until Slurm stops the job at %s; %s", j.EndTime, fate(j)))
	case err == nil && j.preempted():
		e.log.Info("preempted: Slurm stops the job now; " + fate(j) + "; kernels stop and their memory is gone")
	default:
		e.log.Info("Slurm stops the job (cancelled, or at its time limit)", "state", j.State)
	}
	if e.ready && !e.saved {
		e.saved = true
		e.keep(ctx)
	}
	return sig == syscall.SIGTERM && !graceful
}

// Rechecks of a SIGUSR1 whose job does not show a preemption yet.
const (
	usr1Rechecks     = 4
	usr1RecheckEvery = 500 * time.Millisecond
)

func (e *ending) rechecks() int {
	if e.recheck < 0 {
		return 0
	}
	return usr1Rechecks
}

func (e *ending) recheckEvery() time.Duration {
	if e.recheck > 0 {
		return e.recheck
	}
	return usr1RecheckEvery
}

// fate says what becomes of a preempted job.
func fate(j slurmJob) string {
	if j.Requeue && j.State != "PREEMPTED" {
		return "the job is requeued and the notebook comes back at the same address when it runs again"
	}
	return "its pool does not requeue, so the notebook ends"
}

// keep has Jupyter make a checkpoint of every open notebook, within a
// couple of seconds (Slurm's KillWait may be short).
func (e *ending) keep(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	kept, err := checkpointOpen(ctx, e.jc, jupyterBase(e.spec), e.spec.JupyterToken)
	if err != nil {
		e.log.Warn("Jupyter could not keep the open notebooks", "err", err)
	}
	if len(kept) == 0 {
		return
	}
	e.log.Info("checkpointed the open notebooks as last saved (File > Revert Notebook to Checkpoint brings one back); " +
		"edits the browser had not saved are kept only in an open browser tab, which can save them once the notebook is back: " + strings.Join(kept, ", "))
}

// checkpointOpen asks Jupyter at base for its sessions and makes a
// checkpoint of each notebook they have open; it returns their paths.
func checkpointOpen(ctx context.Context, c *http.Client, base, token string) ([]string, error) {
	var sessions []struct {
		Path     string `json:"path"`
		Type     string `json:"type"`
		Notebook *struct {
			Path string `json:"path"`
		} `json:"notebook"`
	}
	if err := jupyterGet(ctx, c, base, token, "api/sessions", &sessions); err != nil {
		return nil, err
	}
	var kept []string
	var errs []error
	seen := map[string]bool{}
	for _, s := range sessions {
		p := s.Path
		if p == "" && s.Notebook != nil {
			p = s.Notebook.Path
		}
		if p == "" || seen[p] || (s.Type != "" && s.Type != "notebook") {
			continue
		}
		seen[p] = true
		if err := jupyterPost(ctx, c, base, token, "api/contents/"+escapePath(p)+"/checkpoints"); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		kept = append(kept, p)
	}
	return kept, errors.Join(errs...)
}

// jupyterPost sends an empty POST to one of Jupyter's API paths.
func jupyterPost(ctx context.Context, c *http.Client, base, token, path string) error {
	resp, err := jupyterDo(ctx, c, http.MethodPost, base, token, path)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	return nil
}

// escapePath escapes each segment of a Jupyter contents path.
func escapePath(p string) string {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
