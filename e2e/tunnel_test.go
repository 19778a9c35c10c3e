package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/tunnel"
)

// tunnelMode is true unless the suite runs against a bridge in direct
// mode (make e2e-direct sets DET_E2E_PROXY_MODE=direct).
func tunnelMode() bool { return os.Getenv("DET_E2E_PROXY_MODE") != "direct" }

func skipUnlessTunnel(t *testing.T) {
	t.Helper()
	if !tunnelMode() {
		t.Skip("the bridge runs in direct mode (DET_E2E_PROXY_MODE=direct)")
	}
}

// tunnelPort returns the local port of the task's tunnel: the address
// of the newest tunnel the bridge logged that the job still holds; 0 when
// it holds none of them. (The job's other connections to the bridge are
// its launcher's callbacks.)
func tunnelPort(t *testing.T, id, jobDir string) int {
	t.Helper()
	var logged []int
	for _, l := range strings.Split(bridgeLogSince(t, id), "\n") {
		if strings.Contains(l, `msg="tunnel open"`) {
			if i := strings.Index(l, "remote="); i >= 0 {
				_, p, _ := net.SplitHostPort(strings.Fields(l[i+len("remote="):])[0])
				if port, err := strconv.Atoi(p); err == nil {
					logged = append(logged, port)
				}
			}
		}
	}
	held := map[int]bool{}
	for _, s := range launchTCPSockets(t, launchJobPIDs(t, jobDir), "01") { // 01: ESTABLISHED
		held[s.port] = true
	}
	// The newest logged tunnel the job still holds: two tunnels opened at
	// once may be logged in either order, the one replaced last.
	for i := len(logged) - 1; i >= 0; i-- {
		if held[logged[i]] {
			return logged[i]
		}
	}
	return 0
}

// TestTunnelNoPort: in tunnel mode the job holds no listening TCP socket,
// yet JupyterLab, a kernel over websocket and a 50 MiB upload and download
// all work through the proxy.
func TestTunnelNoPort(t *testing.T) {
	skipUnlessTunnel(t)
	t.Parallel()
	c := cluster(t)
	nb := start(t, c, cpuNotebook())
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	jobDir := launchTask(t, nb.ID).JobDir
	pids := launchJobPIDs(t, jobDir)
	if len(pids) < 2 {
		t.Fatalf("found %d processes of the job; the check below would prove nothing", len(pids))
	}
	if l := launchTCPListeners(t, pids); len(l) > 0 {
		t.Errorf("the job listens on TCP: %+v", l)
	}
	if tunnelPort(t, nb.ID, jobDir) == 0 {
		t.Errorf("the job holds no tunnel to the bridge")
	}
	if code, body := proxyGet(t, c, nb.ID, "lab"); code != http.StatusOK || !strings.Contains(body, "JupyterLab") {
		t.Errorf("JupyterLab through the tunnel: HTTP %d %.200s", code, body)
	}
	k := openKernel(t, c, nb.ID)
	if got := strings.TrimSpace(k.exec("print(6*7)")); got != "42" {
		t.Errorf("kernel through the tunnel printed %q", got)
	}
	roundTrip50MiB(t, c, nb.ID)
}

// roundTrip50MiB uploads 50 MiB through Jupyter's contents API and
// downloads it again, byte for byte.
func roundTrip50MiB(t *testing.T, c *client.Client, id string) {
	t.Helper()
	data := make([]byte, 50<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>12)
	}
	body, _ := json.Marshal(map[string]any{"type": "file", "format": "base64", "content": base64.StdEncoding.EncodeToString(data)})
	req, _ := http.NewRequest(http.MethodPut, master+"/proxy/"+id+"/api/contents/big.bin", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	hc := &http.Client{Timeout: 2 * time.Minute}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("upload 50 MiB: %v", err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("upload 50 MiB: HTTP %d %.300s", resp.StatusCode, msg)
	}
	req, _ = http.NewRequest(http.MethodGet, master+"/proxy/"+id+"/files/big.bin", nil)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatalf("download 50 MiB: %v", err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download 50 MiB: HTTP %d, %d bytes, %v", resp.StatusCode, n, err)
	}
	if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) || n != int64(len(data)) {
		t.Errorf("downloaded %d bytes that differ from the 50 MiB uploaded", n)
	}
}

// TestTunnelCut: the tunnel's TCP connection killed from outside (ss -K)
// comes back by itself, and the notebook answers again.
func TestTunnelCut(t *testing.T) {
	skipUnlessTunnel(t)
	t.Parallel()
	c := cluster(t)
	nb := start(t, c, cpuNotebook())
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	k := openKernel(t, c, nb.ID)
	k.exec("x = 41")
	jobDir := launchTask(t, nb.ID).JobDir
	port := tunnelPort(t, nb.ID, jobDir)
	if port == 0 {
		t.Fatalf("the job holds no tunnel to the bridge")
	}
	out, err := exec.Command("ss", "-K", "src", "127.0.0.1", "sport", "=", ":"+strconv.Itoa(port)).CombinedOutput()
	if err != nil {
		t.Fatalf("ss -K: %v\n%s", err, out)
	}
	cut := time.Now()
	for {
		now := tunnelPort(t, nb.ID, jobDir)
		code, _ := proxyGet(t, c, nb.ID, "api/status")
		if code == http.StatusOK && now != 0 && now != port {
			t.Logf("the tunnel came back %s after the cut", time.Since(cut).Round(time.Millisecond))
			break
		}
		if time.Since(cut) > 20*time.Second {
			t.Fatalf("20 s after the cut: HTTP %d, tunnel port %d (was %d)", code, now, port)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The kernel lived through it: a new websocket finds its state.
	k2 := openKernelByID(t, c, nb.ID, k.id)
	if got := strings.TrimSpace(k2.exec("print(x + 1)")); got != "42" {
		t.Errorf("the kernel after the cut printed %q", got)
	}
}

// TestTunnelRefused: a tunnel offered with a wrong secret, or with the
// right one from an address that is not the task's node, is refused and
// logged; the notebook's own tunnel is untouched.
func TestTunnelRefused(t *testing.T) {
	skipUnlessTunnel(t)
	t.Parallel()
	c := cluster(t)
	nb := start(t, c, cpuNotebook())
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	jobDir := launchTask(t, nb.ID).JobDir
	before := tunnelPort(t, nb.ID, jobDir)

	var spec jobspec.Spec
	specPath := filepath.Join(jobDir, "task.json")
	data, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, secret, from string
	}{
		{"wrong secret", strings.Repeat("0", len(spec.Secret)), "127.0.0.1"},
		{"another node", spec.Secret, "127.0.0.2"},
	} {
		status := offerTunnel(t, nb.ID, c.secret, c.from)
		if status == http.StatusSwitchingProtocols {
			t.Errorf("%s: the bridge took the tunnel", c.name)
		}
		if !logHas(bridgeLogSince(t, nb.ID), "tunnel", c.from+":") {
			t.Errorf("%s: the refusal is not in the bridge's log with the address %s", c.name, c.from)
		}
	}
	if after := tunnelPort(t, nb.ID, jobDir); before == 0 || after != before {
		t.Errorf("the notebook's tunnel changed: port %d before, %d after", before, after)
	}
	if code, _ := proxyGet(t, c, nb.ID, "api/status"); code != http.StatusOK {
		t.Errorf("the notebook answers %d after the refused offers", code)
	}
}

// offerTunnel asks the bridge for a tunnel of task id from local address
// from, and returns the HTTP status it answers.
func offerTunnel(t *testing.T, id, secret, from string) int {
	t.Helper()
	host := strings.TrimPrefix(strings.TrimPrefix(master, "http://"), "https://")
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	conn, err := d.Dial("tcp", host)
	if err != nil {
		t.Fatalf("dial the bridge from %s: %v", from, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: det-tunnel/1\r\n%s: %s\r\n\r\n", tunnel.Path(id), host, jobspec.SecretHeader, secret)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the bridge's answer: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// logHas is true when one line of log holds every one of words.
func logHas(log string, words ...string) bool {
	for _, l := range strings.Split(log, "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(l, w)
		}
		if all && l != "" {
			return true
		}
	}
	return false
}

// bridgeLogSince returns the bridge log's lines that name id.
func bridgeLogSince(t *testing.T, id string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(state, "log", "bridge.log"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, id) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestTunnelUnreachable: a launcher that stops answering (SIGSTOP) loses
// its tunnel; past the grace period the notebook shows as unreachable, with
// the time and the reason, in the API, the CLI and the proxy's answer, and
// it is not cancelled; once the launcher runs again it is reachable again.
func TestTunnelUnreachable(t *testing.T) {
	skipUnlessTunnel(t)
	t.Parallel()
	c := cluster(t)
	nb := start(t, c, cpuNotebook())
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	pids := launchJobPIDs(t, launchTask(t, nb.ID).JobDir)
	launcher := 0
	for pid, comm := range pids {
		if strings.HasPrefix(comm, "det-launcher") && (launcher == 0 || pid < launcher) {
			launcher = pid
		}
	}
	if launcher == 0 {
		t.Fatalf("no det-launcher among the job's processes %v", pids)
	}
	if err := syscall.Kill(launcher, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			_ = syscall.Kill(launcher, syscall.SIGCONT)
		}
	}()
	began := time.Now()
	for {
		got, err := c.Notebook(ctxT(t, 10*time.Second), nb.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != api.StateRunning {
			t.Fatalf("the notebook went %s (%s) while its launcher was stopped", got.State, got.Reason)
		}
		if got.Unreachable != nil {
			if got.Unreachable.Reason == "" || got.Unreachable.Since.IsZero() {
				t.Errorf("unreachable without a time or a reason: %+v", got.Unreachable)
			}
			t.Logf("unreachable %s after SIGSTOP: %s", time.Since(began).Round(time.Second), got.Unreachable.Reason)
			break
		}
		if time.Since(began) > 45*time.Second {
			t.Fatalf("45 s after the launcher stopped, the notebook is not shown as unreachable")
		}
		time.Sleep(time.Second)
	}
	if out := run(t, filepath.Join(repo, "bin", "det"), "notebook", "list"); !strings.Contains(out, "unreachable since") {
		t.Errorf("det notebook list does not say it is unreachable:\n%s", out)
	}
	if code, body := proxyGet(t, c, nb.ID, "api/status"); code != http.StatusBadGateway || !strings.Contains(body, "unreachable") {
		t.Errorf("the proxy answers %d %.200s, want 502 saying it is unreachable", code, body)
	}
	_ = syscall.Kill(launcher, syscall.SIGCONT)
	stopped = false
	back := time.Now()
	for {
		code, _ := proxyGet(t, c, nb.ID, "api/status")
		got, err := c.Notebook(ctxT(t, 10*time.Second), nb.ID)
		if err == nil && code == http.StatusOK && got.Unreachable == nil && got.State == api.StateRunning {
			break
		}
		if time.Since(back) > 20*time.Second {
			t.Fatalf("20 s after SIGCONT: HTTP %d, %+v %v", code, got, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
