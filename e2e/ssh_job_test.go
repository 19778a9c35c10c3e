package e2e

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
)

// jobPIDs returns the processes Slurm counts in a job on its node, with
// their names: `scontrol listpids`, run where the node's slurmd is (in the
// dev cluster every node is this machine).
func jobPIDs(t *testing.T, jobID, node string) map[int]string {
	t.Helper()
	args := []string{"listpids", jobID}
	if node != "" {
		args = append(args, node) // several slurmd on one host: say which
	}
	out := run(t, "scontrol", args...)
	pids := map[int]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || f[1] != jobID { // the header, or another job
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil {
			pids[pid] = strings.TrimSpace(string(comm))
		}
	}
	return pids
}

// checkJobListeners fails the test when a process of the shell's job holds
// a listening TCP socket: the SSH server is reached through the job's
// tunnel only. In direct mode the launcher's one proof-gated port, which
// the bridge dials, is the exception.
func checkJobListeners(t *testing.T, sh *api.Notebook) {
	t.Helper()
	pids := jobPIDs(t, sh.SlurmJobID, sh.Node)
	launcher := false
	for _, comm := range pids {
		launcher = launcher || strings.HasPrefix(comm, "det-launcher")
	}
	if len(pids) < 2 || !launcher {
		t.Fatalf("scontrol listpids %s %s found %v: no det-launcher and its children, so the check below would prove nothing", sh.SlurmJobID, sh.Node, pids)
	}
	listeners := launchTCPListeners(t, pids)
	if tunnelMode() {
		if len(listeners) > 0 {
			t.Errorf("processes of the shell's job listen on TCP: %+v (job processes %v)", listeners, pids)
		}
		return
	}
	port := launchTask(t, sh.ID).Port
	if len(listeners) != 1 || listeners[0].port != port || !strings.HasPrefix(listeners[0].comm, "det-launcher") {
		t.Errorf("TCP listeners of the shell's job: %+v, want only det-launcher's proof-gated port %d (direct mode)", listeners, port)
	}
}

// freePort is a TCP port nothing listens on now, on loopback.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// endStrays ends the processes of user uid whose command line holds every
// one of words, by their pid, and says so: what the test started in a
// job that is still there when it ends.
func endStrays(t *testing.T, uid int, words ...string) {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(filepath.Join("/proc", e.Name()), &st) != nil || int(st.Uid) != uid {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if !containsAll(args, words) {
			continue
		}
		t.Logf("process %d (%s) is still there; ending it", pid, strings.Join(args, " "))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// wsProbeScript opens a websocket by hand on a plain HTTP connection to
// host, port and path (its arguments), with the headers on its standard
// input (not in its arguments, which every user may read), and prints the answer's
// status line, then "banner" when an SSH server's version line came
// through the websocket (the server speaks first).
const wsProbeScript = `import base64, os, socket, sys
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
req = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (host, port), "Connection: Upgrade", "Upgrade: websocket",
       "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)).decode()]
req += [h for h in sys.stdin.read().split("\n") if h]
s = socket.create_connection((host, port), timeout=20)
s.sendall(("\r\n".join(req) + "\r\n\r\n").encode())
data = b""
try:
    while b"SSH-2.0-" not in data.partition(b"\r\n\r\n")[2]:
        if b"\r\n\r\n" in data and not data.startswith(b"HTTP/1.1 101"):
            break
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    pass
print(data.partition(b"\r\n")[0].decode("latin-1"))
print("banner" if b"SSH-2.0-" in data.partition(b"\r\n\r\n")[2] else "no banner")
`

// probeSSHSocket opens the websocket of shell id's SSH server
// (/proxy/<id>/) as u (nil: as this test, root), with headers ("Name:
// value"). It returns the HTTP status, whether the SSH server's banner
// came through, and what the probe printed.
func probeSSHSocket(t *testing.T, u *posixUser, id string, headers ...string) (int, bool, string) {
	t.Helper()
	mu, err := url.Parse(master)
	if err != nil || mu.Scheme != "http" {
		t.Fatalf("the websocket probe speaks plain HTTP; master is %q", master)
	}
	host, port, err := net.SplitHostPort(mu.Host)
	if err != nil {
		host, port = mu.Host, "80"
	}
	args := []string{"-c", wsProbeScript, host, port, "/proxy/" + id + "/"}
	stdin := strings.Join(headers, "\n")
	var out string
	if u != nil {
		stdout, stderr, rerr := u.run(stdin, "/usr/bin/python3", args...)
		out, err = stdout+stderr, rerr
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "/usr/bin/python3", args...)
		cmd.Stdin = strings.NewReader(stdin)
		b, rerr := cmd.CombinedOutput()
		out, err = string(b), rerr
	}
	if err != nil {
		t.Fatalf("websocket probe of %s: %v\n%s", id, err, out)
	}
	status := 0
	fmt.Sscanf(out, "HTTP/1.1 %d", &status)
	return status, strings.Contains(out, "\nbanner"), out
}
