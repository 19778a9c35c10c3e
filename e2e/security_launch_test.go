package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/client"
	"github.com/det-slurm/bridge/jobspec"
)

// Item 5: values that a shell would run arrive in the notebook literally.
var _ = addSecCase(5, "env-shell-code-literal", func(t *testing.T) {
	alice := asUser(t, "alice")
	tag := randomWord(t)
	pwned := func(what string) string { return "/tmp/pwned-sec5-" + tag + "-" + what }
	want := map[string]string{
		"SEC5_A": "$(touch " + pwned("a") + ")",
		"SEC5_B": "`touch " + pwned("b") + "`",
		"SEC5_C": "x; touch " + pwned("c"),
		"SEC5_D": "${HOME} $$ \\ \" ' $(touch pwned-sec5-" + tag + "-rel)",
	}
	var env []any
	for k, v := range want {
		env = append(env, k+"="+v)
	}
	// The working directory, made beforehand by alice, has shell code in
	// its name (no slash in the code, so it stays one folder); it reaches
	// Jupyter through the environment too.
	workDir := "/tmp/sec5-" + tag + "-$(touch pwned-sec5-" + tag + "-wd)"
	if out, err := runAs(t, "alice", "/bin/mkdir", "-p", workDir); err != nil {
		t.Fatalf("mkdir %s as alice: %v %s", workDir, err, out)
	}
	t.Cleanup(func() { os.RemoveAll(workDir) })
	cfg := cpuNotebook()
	cfg["environment"] = map[string]any{"environment_variables": env}
	cfg["work_dir"] = workDir
	nb, err := alice.StartNotebook(ctxT(t, time.Minute), cfg, nil)
	if err != nil { // the work_dir is a valid absolute path: it must be taken, literally
		t.Fatalf("start notebook: %v", err)
	}
	t.Cleanup(func() { _, _ = alice.KillNotebook(context.Background(), nb.ID) })
	waitState(t, alice, nb.ID, api.StateRunning, startWithin)

	k := openKernel(t, alice, nb.ID)
	out := k.exec(`import json, os; print(json.dumps({"env": {k: os.environ.get(k) for k in ["SEC5_A", "SEC5_B", "SEC5_C", "SEC5_D"]}, "workdir": os.environ.get("DET_CONTAINER_WORKDIR"), "cwd": os.getcwd()}))`)
	var got struct {
		Env     map[string]string `json:"env"`
		Workdir string            `json:"workdir"`
		Cwd     string            `json:"cwd"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &got); err != nil {
		t.Fatalf("kernel output %q: %v", out, err)
	}
	for k, v := range want {
		if got.Env[k] != v {
			t.Errorf("%s in the kernel is %q, want exactly %q", k, got.Env[k], v)
		}
	}
	if workDir != "" && (got.Workdir != workDir || got.Cwd != workDir) {
		t.Errorf("work_dir in the kernel: DET_CONTAINER_WORKDIR %q, cwd %q, want exactly %q", got.Workdir, got.Cwd, workDir)
	}

	task := launchTask(t, nb.ID)
	var found []string
	for _, root := range []string{"/tmp", "/home/alice", task.JobDir, filepath.Join(state, "shared")} {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if strings.HasPrefix(d.Name(), "pwned-sec5-"+tag) {
				found = append(found, p)
			}
			if d.IsDir() && p != root && strings.Count(strings.TrimPrefix(p, root), "/") > 4 {
				return filepath.SkipDir
			}
			return nil
		})
	}
	if len(found) > 0 {
		t.Errorf("a value ran as shell code in the job: %v", found)
	}
})

// Item 10: bob, on the same node, listens on a port and a ready callback
// for alice's notebook names it (as if bob had won the race for the port,
// with the callback's secret in hand): the bridge asks the port for the
// task's proof, refuses, routes nothing to bob and sends bob nothing that
// opens the notebook. Alice's launcher holds its own port, which bob
// cannot take, and it is the job's only TCP listener: Jupyter listens on a
// Unix socket.
var _ = addSecCase(10, "port-squat-proof", func(t *testing.T) {
	alice := asUser(t, "alice")
	asUser(t, "bob")
	nb := start(t, alice, directNotebook()) // a tunnel-mode job holds no port at all (TestTunnelNoPort)
	nb = waitState(t, alice, nb.ID, api.StateRunning, startWithin)
	before := launchTask(t, nb.ID)
	if before.ProofKey == "" {
		t.Fatal("the task has no proof key")
	}

	// What the launcher was given, read as alice (the race's winner would
	// need it to send the callback).
	raw, err := runAs(t, "alice", "/bin/cat", filepath.Join(before.JobDir, "task.json"))
	if err != nil {
		t.Fatalf("read task.json as alice: %v %s", err, raw)
	}
	var spec jobspec.Spec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatalf("task.json: %v", err)
	}

	// The real launcher answers the proof on the routed port.
	if err := launchAskProof(before.Host, before.Port, nb.ID, spec.ProofKey); err != nil {
		t.Errorf("alice's launcher on %s:%d: %v", before.Host, before.Port, err)
	}

	// bob cannot take the port the launcher holds.
	if sq, err := startSquatter(t, before.Port); err == nil {
		sq.stop()
		t.Errorf("bob could listen on alice's notebook port %d", before.Port)
	}
	sq, err := startSquatter(t, 0)
	if err != nil {
		t.Fatalf("bob's listener: %v", err)
	}
	defer sq.stop()

	cb := client.New(master, "")
	err = doSecret(t, cb, nb.ID, spec.Secret, jobspec.ReadyRequest{Node: before.Node, Port: sq.port})
	var ae *client.APIError
	if !errors.As(err, &ae) || (ae.Status != http.StatusForbidden && ae.Status != http.StatusBadGateway) {
		t.Errorf("ready callback naming bob's port %d: %v, want 403 or 502", sq.port, err)
	}
	after := launchTask(t, nb.ID)
	if after.Host != before.Host || after.Port != before.Port || after.State != api.StateRunning {
		t.Errorf("route changed: %s:%d %s -> %s:%d %s", before.Host, before.Port, before.State, after.Host, after.Port, after.State)
	}
	if code, _ := proxyGet(t, alice, nb.ID, "api/status"); code != http.StatusOK {
		t.Errorf("alice's notebook through the proxy after the attempt: %d", code)
	}
	time.Sleep(500 * time.Millisecond)
	got := sq.received()
	if !strings.Contains(got, jobspec.ProofPreamble) {
		t.Errorf("bob's listener was never asked for a proof (received %q)", got)
	}
	for _, secret := range []string{before.JupyterToken, spec.ProofKey, spec.Secret, "Authorization", "Cookie"} {
		if strings.Contains(got, secret) {
			t.Errorf("bob's listener received %q", launchShort(secret))
		}
	}

	// The job listens on TCP only through the launcher.
	pids := launchJobPIDs(t, before.JobDir)
	listeners := launchTCPListeners(t, pids)
	if len(listeners) != 1 || listeners[0].port != before.Port || !strings.HasPrefix(listeners[0].comm, "det-launcher") {
		t.Errorf("TCP listeners of the job's processes: %+v, want only det-launcher on %d", listeners, before.Port)
	}
})

// launchTask reads a task's row from the bridge's store.
func launchTask(t *testing.T, id string) *store.Task {
	t.Helper()
	st, err := store.Open(filepath.Join(state, "bridge", "bridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	task, err := st.GetTask(context.Background(), id)
	if err != nil {
		t.Fatalf("task %s: %v", id, err)
	}
	return task
}

func launchShort(s string) string {
	if len(s) > 8 {
		return s[:8] + "..."
	}
	return s
}

// launchAskProof asks host:port for the task's proof, as the bridge does.
func launchAskProof(host string, port int, taskID, key string) error {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(port)), 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	nonce := strings.Repeat("5a", jobspec.ProofNonceMin/2)
	if _, err := fmt.Fprintf(c, "%s%s\n", jobspec.ProofPreamble, nonce); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no proof: %w", err)
	}
	if strings.TrimSpace(line) != jobspec.ProofAnswer(key, taskID, port, nonce) {
		return fmt.Errorf("wrong proof %q", line)
	}
	return nil
}

// squatter is bob's TCP listener on the node: this test binary, run as
// bob, that records what it receives and answers a bogus line.
type squatter struct {
	t    *testing.T
	dir  string
	port int
	cmd  *exec.Cmd
	once sync.Once
}

// The squatter's side: when the test binary starts with
// DET_E2E_SQUATTER_DIR set it is bob's listener and nothing else.
func init() {
	if dir := os.Getenv("DET_E2E_SQUATTER_DIR"); dir != "" {
		os.Exit(squatterMain(dir, os.Getenv("DET_E2E_SQUATTER_PORT")))
	}
}

func squatterMain(dir, port string) int {
	l, err := net.Listen("tcp", ":"+port)
	if err != nil {
		_ = os.WriteFile(filepath.Join(dir, "error"), []byte(err.Error()), 0o644)
		return 3
	}
	_ = os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "port.tmp"), []byte(strconv.Itoa(l.Addr().(*net.TCPAddr).Port)), 0o644)
	_ = os.Rename(filepath.Join(dir, "port.tmp"), filepath.Join(dir, "port"))
	var mu sync.Mutex
	logf, err := os.OpenFile(filepath.Join(dir, "received"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 4
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return 5
		}
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 64<<10)
			answered := false
			for {
				n, err := c.Read(buf)
				mu.Lock()
				_, _ = logf.Write(buf[:n])
				mu.Unlock()
				if !answered && n > 0 {
					answered = true
					_, _ = io.WriteString(c, strings.Repeat("0", 64)+"\n")
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// startSquatter runs bob's listener on port (0: any free port).
func startSquatter(t *testing.T, port int) (*squatter, error) {
	t.Helper()
	bob, err := user.Lookup("bob")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(bob.Uid)
	gid, _ := strconv.Atoi(bob.Gid)
	dir, err := os.MkdirTemp("/tmp", "det-e2e-squat-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "squatter")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("runuser", "-u", "bob", "--", "env", "-i", "HOME=/home/bob", "PATH=/usr/bin:/bin",
		"DET_E2E_SQUATTER_DIR="+dir, "DET_E2E_SQUATTER_PORT="+strconv.Itoa(port), bin)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sq := &squatter{t: t, dir: dir, cmd: cmd}
	t.Cleanup(sq.stop)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if msg, err := os.ReadFile(filepath.Join(dir, "error")); err == nil {
			sq.stop()
			return nil, errors.New(string(msg))
		}
		if p, err := os.ReadFile(filepath.Join(dir, "port")); err == nil {
			sq.port, _ = strconv.Atoi(string(p))
			return sq, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	sq.stop()
	return nil, errors.New("bob's listener did not start")
}

// stop ends bob's listener (by its own pid) and waits for it.
func (s *squatter) stop() {
	s.once.Do(func() {
		if p, err := os.ReadFile(filepath.Join(s.dir, "pid")); err == nil {
			if pid, err := strconv.Atoi(string(p)); err == nil && pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
		}
	})
}

// received is everything bob's listener has been sent.
func (s *squatter) received() string {
	data, _ := os.ReadFile(filepath.Join(s.dir, "received"))
	return string(data)
}

// launchJobPIDs returns the processes of a job: its det-launcher (found by
// the task.json it runs) and every descendant, with their names.
func launchJobPIDs(t *testing.T, jobDir string) map[int]string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	parent := map[int]int{}
	comm := map[int]string{}
	root := 0
	specPath := filepath.Join(jobDir, "task.json")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		fields := strings.Fields(s[close+1:])
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		parent[pid], comm[pid] = ppid, s[open+1:close]
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if len(args) == 4 && filepath.Base(args[0]) == "det-launcher" && args[1] == "run" && args[3] == specPath {
			root = pid
		}
	}
	if root == 0 {
		t.Fatalf("no det-launcher runs %s", specPath)
	}
	in := map[int]string{root: comm[root]}
	for grew := true; grew; {
		grew = false
		for pid, pp := range parent {
			if _, ok := in[pid]; !ok {
				if _, ok := in[pp]; ok {
					in[pid] = comm[pid]
					grew = true
				}
			}
		}
	}
	return in
}

type launchListener struct {
	pid        int
	comm       string
	port       int
	remotePort int
}

// launchTCPListeners returns the listening TCP sockets (IPv4 and IPv6)
// that the given processes hold.
func launchTCPListeners(t *testing.T, pids map[int]string) []launchListener {
	return launchTCPSockets(t, pids, "0A") // 0A: LISTEN
}

// launchTCPSockets returns the TCP sockets (IPv4 and IPv6) in the kernel's
// state st (hex, as /proc/net/tcp writes it) that the given processes hold.
func launchTCPSockets(t *testing.T, pids map[int]string, st string) []launchListener {
	t.Helper()
	sockets := map[string][2]int{} // socket inode -> local and remote port
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) < 10 || fields[3] != st {
				continue
			}
			sockets[fields[9]] = [2]int{hexPort(fields[1]), hexPort(fields[2])}
		}
	}
	var out []launchListener
	seen := map[string]bool{}
	for pid, name := range pids {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, fd := range fds {
			target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
			if err != nil || !strings.HasPrefix(target, "socket:[") {
				continue
			}
			inode := strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")
			if ports, ok := sockets[inode]; ok && !seen[inode] {
				seen[inode] = true
				out = append(out, launchListener{pid: pid, comm: name, port: ports[0], remotePort: ports[1]})
			}
		}
	}
	return out
}

// hexPort reads the port of an address as /proc/net/tcp writes it.
func hexPort(addr string) int {
	_, p, _ := strings.Cut(addr, ":")
	n, _ := strconv.ParseInt(p, 16, 32)
	return int(n)
}
