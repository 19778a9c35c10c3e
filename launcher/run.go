package launcher

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/runtimes"
	"github.com/det-slurm/bridge/taskconfig"
)

// Options tune a run; zero values mean the defaults.
type Options struct {
	ReadyTimeout time.Duration // how long Jupyter may take to answer; default 10 min
	Logger       *slog.Logger
	HTTPClient   *http.Client
	// Tunnel mode: the session's keepalive and write timeout (zero takes
	// package tunnel's), and how long the first tunnel may take to open
	// (default 1 min).
	TunnelKeepAlive, TunnelWriteTimeout, TunnelFirstTimeout time.Duration
}

// ReadSpec loads and checks a task spec.
func ReadSpec(path string) (*jobspec.Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	var s jobspec.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("parse spec %s: %w", path, err)
	}
	if s.TaskID == "" || s.JobDir == "" || s.BaseURL == "" || s.CallbackURL == "" {
		return nil, fmt.Errorf("spec %s: task_id, job_dir, base_url and callback_url are required", path)
	}
	return &s, nil
}

// Run runs the notebook described by spec until it exits or ctx ends, and
// returns the exit code to leave with.
func Run(ctx context.Context, spec *jobspec.Spec, o Options) int {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 10 * time.Minute
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.TunnelFirstTimeout == 0 {
		o.TunnelFirstTimeout = defaultTunnelFirst
	}
	log := o.Logger.With("task_id", spec.TaskID)
	release := beginRun(spec, log)
	defer release()
	code, msg := run(ctx, spec, o, log)
	rec := jobspec.ExitRecord{ExitCode: code, Message: msg, Time: time.Now()}
	if err := writeJSON(filepath.Join(spec.JobDir, "exit.json"), rec); err != nil {
		log.Error("write exit record", "err", err)
	}
	if err := post(context.Background(), o.HTTPClient, spec, "exit", jobspec.ExitRequest{ExitCode: code, Message: msg}); err != nil {
		log.Warn("report exit to bridge", "err", err)
	}
	return code
}

// prepared is a job's working directory and the environment its container
// gets, ready for the notebook server or the shell.
type prepared struct {
	rt       Runtime
	hostWork string
	hook     string
	env      []string
}

// prepare makes the working directory, unpacks the context into it, finds
// the startup hook and builds the container's environment.
func prepare(spec *jobspec.Spec, port int, log *slog.Logger) (*prepared, error) {
	rt, err := RuntimeFor(spec)
	if err != nil {
		return nil, err
	}
	if !rt.Capabilities().LiteralEnv {
		return nil, fmt.Errorf("runtime %s would let a shell evaluate the environment's values", spec.Runtime)
	}
	if len(spec.Binds) > 0 && rt.Capabilities().Binds == runtimes.NoBinds {
		return nil, fmt.Errorf("runtime %s cannot bind folders, and the task asks for %s", spec.Runtime, strings.Join(spec.Binds, ", "))
	}
	hostWork := filepath.Join(spec.JobDir, "workdir")
	if err := os.MkdirAll(filepath.Join(hostWork, "shared_fs"), 0o700); err != nil {
		return nil, fmt.Errorf("create work dir: %w", err)
	}
	if spec.Context != "" && !contextUnpacked(spec) {
		data, err := os.ReadFile(spec.Context)
		if err != nil {
			return nil, fmt.Errorf("read context: %w", err)
		}
		if err := taskconfig.ExtractContext(data, hostWork); err != nil {
			return nil, fmt.Errorf("unpack context: %w", err)
		}
		log.Info("context unpacked into the working directory", "bytes", len(data))
		if err := markContextUnpacked(spec); err != nil {
			return nil, err
		}
	}
	hook := ""
	if st, err := os.Stat(filepath.Join(hostWork, taskconfig.HookName)); err == nil && st.Mode().IsRegular() {
		hook = filepath.Join(ContainerWorkDir, taskconfig.HookName)
		if !rt.Capabilities().Isolated {
			hook = filepath.Join(hostWork, taskconfig.HookName)
		}
	}
	workdir := containerWorkDir(spec)
	if !rt.Capabilities().Isolated {
		workdir = hostWork
	}
	env := []string{}
	if port > 0 {
		env = append(env, fmt.Sprintf("DET_PORT=%d", port))
	}
	env = append(append(env,
		"DET_BASE_URL="+spec.BaseURL,
		"DET_CONTAINER_WORKDIR="+workdir,
		"DET_ALLOW_ORIGIN="+spec.AllowOrigin,
		"DET_STARTUP_HOOK="+hook,
	), spec.Env...)
	env = append(env, determinedEnv(spec, os.Getenv)...)
	return &prepared{rt: rt, hostWork: hostWork, hook: hook, env: env}, nil
}

func run(ctx context.Context, spec *jobspec.Spec, o Options, log *slog.Logger) (int, string) {
	// Jupyter listens on a Unix socket only the job's user can reach. In
	// tunnel mode the bridge's connections come through the tunnel the
	// launcher opens once Jupyter answers, and nothing listens on a
	// network port. In direct mode the port is held from here to the end
	// and the front splices its connections to the socket.
	var fr *front
	port := 0
	if !tunnelMode(spec) {
		var err error
		if fr, err = listenFront(spec.TaskID, spec.ProofKey, log); err != nil {
			return 1, fmt.Sprintf("listen on a free port: %v", err)
		}
		defer fr.Close()
		port = fr.port
	}
	p, err := prepare(spec, port, log)
	if err != nil {
		return 1, err.Error()
	}
	if spec.Kind == jobspec.KindShell {
		return runShell(ctx, spec, o, log, p, fr)
	}
	sockDir, err := os.MkdirTemp("/tmp", "det-jupyter-")
	if err != nil {
		return 1, fmt.Sprintf("make the notebook server's socket folder: %v", err)
	}
	defer os.RemoveAll(sockDir)
	sock := filepath.Join(sockDir, "jupyter.sock")
	var binds []string
	if p.rt.Capabilities().Isolated {
		binds = []string{sockDir}
	}
	jc := unixClient(sock, 10*time.Second)
	if fr != nil {
		go spliceTo(fr, sock, log)
	}
	rt, hostWork, hook := p.rt, p.hostWork, p.hook
	// Kernels talk to the server over Unix sockets beside Jupyter's own
	// (their files live in the runtime folder), not loopback ports that
	// anyone on the node could subscribe to.
	conf, err := writeTokenConfig(sockDir, spec.JupyterToken)
	if err != nil {
		return 1, err.Error()
	}
	env := append(p.env, "DET_JUPYTER_SOCKET="+sock, "JUPYTER_RUNTIME_DIR="+sockDir, "DET_JUPYTER_CONFIG="+conf)
	argv, procEnv := rt.Command(spec, hostWork, binds, jupyterCommand(), env)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), procEnv...)
	cmd.Dir = hostWork
	out := newOutputWatch(os.Stdout, hookDoneMarker, 10)
	noSocket := out.watchFor(noSocketMarker)
	pr, pw, err := os.Pipe()
	if err != nil {
		return 1, fmt.Sprintf("make output pipe: %v", err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	log.Info("starting notebook server", "proxy_mode", cmp.Or(spec.ProxyMode, jobspec.ProxyModeDirect), "port", port, "runtime", spec.Runtime, "image", spec.Image)
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		return 1, fmt.Sprintf("start %s: %v", argv[0], err)
	}
	pw.Close()
	copied := make(chan struct{})
	go func() { out.copy(pr); close(copied) }()
	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		<-copied
		done <- err
	}()

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1)
	defer signal.Stop(sigs)
	end := &ending{spec: spec, jc: jc, log: log}

	hbCtx, stopHeartbeat := context.WithCancel(ctx)
	defer stopHeartbeat()
	readyCtx, cancelReady := context.WithTimeout(ctx, o.ReadyTimeout)
	defer cancelReady()
	ready := make(chan error, 1)
	go func() { ready <- waitReady(readyCtx, jc, spec) }()
	tunCtx, closeTunnel := context.WithCancel(ctx)
	defer closeTunnel()
	var tunUp <-chan struct{}
	var tunFailed <-chan error
	reportReady := func() (int, string, bool) {
		if err := post(ctx, o.HTTPClient, spec, "ready", jobspec.ReadyRequest{Node: os.Getenv("SLURMD_NODENAME"), Port: port}); err != nil {
			log.Error("report ready", "err", err)
			stop(cmd, done)
			return 1, "could not report to the bridge: " + err.Error(), false
		}
		end.ready = true
		go heartbeat(hbCtx, o.HTTPClient, jc, spec, sockDir, log)
		return 0, "", true
	}

	for {
		select {
		case err := <-ready:
			if err != nil {
				log.Error("notebook server never answered", "err", err)
				stop(cmd, done)
				return 1, "the notebook server did not answer within " + o.ReadyTimeout.String()
			}
			ready = nil
			if tunnelMode(spec) {
				log.Info("notebook server answers; opening the tunnel to the bridge")
				tunUp, tunFailed = openTunnel(tunCtx, spec, o, log, spliceToSocket(sock, log))
				continue
			}
			log.Info("notebook server answers; reporting to the bridge")
			if code, msg, ok := reportReady(); !ok {
				return code, msg
			}
		case <-tunUp:
			tunUp = nil
			log.Info("tunnel open; reporting to the bridge")
			if code, msg, ok := reportReady(); !ok {
				return code, msg
			}
		case err := <-tunFailed:
			log.Error("no tunnel to the bridge; stopping the notebook server", "err", err)
			stop(cmd, done)
			return 1, "tunnel to the bridge: " + err.Error()
		case <-noSocket:
			log.Error("the notebook server ignores its Unix socket option; stopping it")
			stop(cmd, done)
			return 1, noSocketMessage
		case s := <-sigs:
			if !end.onSignal(ctx, s) {
				continue
			}
			log.Info("passing signal on to the notebook server", "signal", s.String())
			_ = syscall.Kill(-cmd.Process.Pid, s.(syscall.Signal))
		case err := <-done:
			code, msg := exitCode(err)
			if hook != "" && !out.sawMarker() {
				msg = fmt.Sprintf("startup hook exited with %d", code)
				if tail := out.tail(); tail != "" {
					msg += ": " + tail
				}
				if code == 0 {
					code = 1
				}
			} else if ready != nil || tunUp != nil {
				if tail := out.tail(); tail != "" {
					msg += ": " + tail
				}
			}
			return code, msg
		case <-ctx.Done():
			stop(cmd, done)
			return 143, "stopped"
		}
	}
}

func exitCode(err error) (int, string) {
	if err == nil {
		return 0, "notebook server exited"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), "notebook server killed by " + ws.Signal().String()
		}
		return ee.ExitCode(), fmt.Sprintf("notebook server exited with %d", ee.ExitCode())
	}
	return 1, err.Error()
}

// stop sends SIGTERM to the server's process group, then SIGKILL after 10 s.
func stop(cmd *exec.Cmd, done <-chan error) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// jupyterBase is the URL of the notebook server through its Unix socket
// (a client of unixClient ignores the host).
func jupyterBase(spec *jobspec.Spec) string { return "http://localhost" + spec.BaseURL }

// waitReady polls Jupyter's /api/status with the token until it answers
// 200; c reaches Jupyter on its Unix socket, so the token never goes to a
// TCP port.
func waitReady(ctx context.Context, c *http.Client, spec *jobspec.Spec) error {
	url := jupyterBase(spec) + "api/status"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Authorization", "token "+spec.JupyterToken)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// post sends a callback to the bridge with the task's secret, retrying a
// few times over about 15 s while the bridge cannot be reached or answers
// 5xx.
func post(ctx context.Context, c *http.Client, spec *jobspec.Spec, what string, body any) error {
	var last error
	for attempt := 0; attempt < 6; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * time.Second):
			}
		}
		last = postOnce(ctx, c, spec, what, body)
		var final *finalError
		if last == nil || errors.As(last, &final) {
			return last
		}
	}
	return last
}

// finalError is an answer from the bridge that retrying will not change.
type finalError struct{ status string }

func (e *finalError) Error() string { return "bridge answered " + e.status }

// postOnce sends one callback to the bridge.
func postOnce(ctx context.Context, c *http.Client, spec *jobspec.Spec, what string, body any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	url := fmt.Sprintf("%s/api/v1/tasks/%s/%s", spec.CallbackURL, spec.TaskID, what)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(jobspec.SecretHeader, spec.Secret)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode < 500:
		return &finalError{status: resp.Status}
	}
	return fmt.Errorf("bridge answered %s", resp.Status)
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
