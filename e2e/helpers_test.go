// Package e2e holds the end-to-end tests: they drive the real bridge on the
// real local Slurm cluster with real Apptainer and Jupyter. `make test`
// brings the cluster and the bridge up before running them.
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

var (
	master  = envOr("DET_MASTER", "http://127.0.0.1:8080")
	repo, _ = filepath.Abs("..")
	state   = filepath.Join(repo, ".devcluster")
)

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// cluster skips the test when the dev cluster is not meant to be there;
// under `make test` (DET_E2E=1) a missing cluster is a failure.
func cluster(t *testing.T) *client.Client {
	t.Helper()
	if os.Getenv("DET_E2E") == "" {
		t.Skip("end-to-end test: needs the dev cluster and the bridge; run `make test` (sets DET_E2E=1)")
	}
	c := client.New(master, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Login(ctx, "determined", ""); err != nil {
		t.Fatalf("the bridge at %s does not answer: %v", master, err)
	}
	return c
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// start submits a notebook and kills it when the test ends.
func start(t *testing.T, c *client.Client, cfg map[string]any) *api.Notebook {
	t.Helper()
	nb, err := c.StartNotebook(ctxT(t, time.Minute), cfg, nil)
	if err != nil {
		t.Fatalf("start notebook: %v", err)
	}
	t.Cleanup(func() { _, _ = c.KillNotebook(context.Background(), nb.ID) })
	return nb
}

// taskOf reads a notebook or, when there is no notebook id, a shell.
func taskOf(ctx context.Context, c *client.Client, id string) (*api.Notebook, error) {
	nb, err := c.Notebook(ctx, id)
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		if sh, serr := c.Get(ctx, client.ShellKind, id); serr == nil {
			return &sh.Task, nil
		}
	}
	return nb, err
}

// waitState polls until the notebook (or shell) reaches want, failing on
// TERMINATED.
func waitState(t *testing.T, c *client.Client, id, want string, within time.Duration) *api.Notebook {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		nb, err := taskOf(ctxT(t, 10*time.Second), c, id)
		if err != nil {
			t.Fatalf("get notebook %s: %v", id, err)
		}
		if nb.State == want {
			return nb
		}
		if nb.State == api.StateTerminated {
			t.Fatalf("notebook %s terminated while waiting for %s: %s\n%s", id, want, nb.Reason, logsOf(c, id))
		}
		if time.Now().After(deadline) {
			t.Fatalf("notebook %s still %s (%s) after %s, want %s\n%s", id, nb.State, nb.Reason, within, want, logsOf(c, id))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func logsOf(c *client.Client, id string) string {
	var b strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Logs(ctx, id, client.LogOptions{}, func(l api.TaskLog) error {
		fmt.Fprintf(&b, "  [%s] %s", l.Source, l.Log)
		return nil
	})
	return b.String()
}

// run runs a command (never through a shell) and returns its output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "SLURM_CONF="+filepath.Join(state, "slurm.conf"), "DET_MASTER="+master)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// runAllowFail runs a command and returns its output, failed or not.
func runAllowFail(name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "SLURM_CONF="+filepath.Join(state, "slurm.conf"), "DET_MASTER="+master)
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// proxyGet requests a path of a notebook through the bridge's proxy.
func proxyGet(t *testing.T, c *client.Client, id, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, master+"/proxy/"+id+"/"+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	hc := &http.Client{Timeout: 15 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s through the proxy: %v", path, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 64<<10)
	n, _ := resp.Body.Read(buf)
	b.Write(buf[:n])
	return resp.StatusCode, b.String()
}

// jobGPUs returns the node and GPU indices Slurm allocated to a job, from
// `scontrol show job -d`.
func jobGPUs(t *testing.T, jobID string) (string, []string) {
	t.Helper()
	return jobGPUsOn(t, "", jobID)
}

// jobGPUsOn is jobGPUs for a job of a Slurm cluster ("" the local one).
func jobGPUsOn(t *testing.T, slurmCluster, jobID string) (string, []string) {
	t.Helper()
	args := []string{"show", "job", "-d", jobID}
	if slurmCluster != "" {
		args = append([]string{"-M", slurmCluster}, args...)
	}
	out := run(t, "scontrol", args...)
	m := regexp.MustCompile(`Nodes=(\S+) CPU_IDs=\S+ Mem=\S+ GRES=\S*\(IDX:([0-9,-]+)\)`).FindStringSubmatch(out)
	if m == nil {
		return "", nil
	}
	return m[1], expandIdx(m[2])
}

func expandIdx(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			out = append(out, lo)
			continue
		}
		var a, b int
		fmt.Sscan(lo, &a)
		fmt.Sscan(hi, &b)
		for i := a; i <= b; i++ {
			out = append(out, fmt.Sprint(i))
		}
	}
	sort.Strings(out)
	return out
}

// kernel is a Jupyter kernel reached through the proxy.
type kernel struct {
	t    *testing.T
	id   string
	conn *websocket.Conn
}

// openKernel starts a kernel through the proxy and opens its channels
// websocket.
func openKernel(t *testing.T, c *client.Client, id string) *kernel {
	t.Helper()
	var k struct {
		ID string `json:"id"`
	}
	if err := c.Do(ctxT(t, 30*time.Second), http.MethodPost, "/proxy/"+id+"/api/kernels", map[string]any{"name": "python3"}, &k); err != nil {
		t.Fatalf("start kernel through the proxy: %v", err)
	}
	return openKernelByID(t, c, id, k.ID)
}

// openKernelByID opens the channels websocket of a running kernel.
func openKernelByID(t *testing.T, c *client.Client, id, kernelID string) *kernel {
	t.Helper()
	wsURL := "ws" + strings.TrimPrefix(master, "http") + "/proxy/" + id + "/api/kernels/" + kernelID + "/channels"
	h := http.Header{"Authorization": {"Bearer " + c.Token}}
	conn, resp, err := websocket.DefaultDialer.Dial(wsURL, h)
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		t.Fatalf("open kernel websocket (HTTP %d): %v", code, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &kernel{t: t, id: kernelID, conn: conn}
}

// send sends an execute_request and returns its message id.
func (k *kernel) send(code string) string {
	k.t.Helper()
	msgID := fmt.Sprintf("e2e-%d", time.Now().UnixNano())
	msg := map[string]any{
		"header":        map[string]any{"msg_id": msgID, "username": "e2e", "session": "e2e", "msg_type": "execute_request", "version": "5.3"},
		"parent_header": map[string]any{}, "metadata": map[string]any{}, "channel": "shell",
		"content": map[string]any{"code": code, "silent": false, "store_history": false, "user_expressions": map[string]any{}, "allow_stdin": false},
	}
	if err := k.conn.WriteJSON(msg); err != nil {
		k.t.Fatalf("send execute_request: %v", err)
	}
	return msgID
}

// waitBusy waits until the kernel reports it is running msgID.
func (k *kernel) waitBusy(msgID string) {
	k.t.Helper()
	_ = k.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		var m struct {
			Header       map[string]any `json:"header"`
			ParentHeader map[string]any `json:"parent_header"`
			Content      map[string]any `json:"content"`
		}
		if err := k.conn.ReadJSON(&m); err != nil {
			k.t.Fatalf("wait for the kernel to start the cell: %v", err)
		}
		if m.ParentHeader["msg_id"] == msgID && m.Header["msg_type"] == "status" && m.Content["execution_state"] == "busy" {
			return
		}
	}
}

// exec runs code in the kernel and returns what it printed.
func (k *kernel) exec(code string) string {
	k.t.Helper()
	msgID := k.send(code)
	var out strings.Builder
	_ = k.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		var m struct {
			Channel      string         `json:"channel"`
			Header       map[string]any `json:"header"`
			ParentHeader map[string]any `json:"parent_header"`
			Content      map[string]any `json:"content"`
		}
		if err := k.conn.ReadJSON(&m); err != nil {
			k.t.Fatalf("read kernel output (so far %q): %v", out.String(), err)
		}
		if m.ParentHeader["msg_id"] != msgID {
			continue
		}
		switch m.Header["msg_type"] {
		case "stream":
			out.WriteString(fmt.Sprint(m.Content["text"]))
		case "error":
			k.t.Fatalf("kernel error: %v %v", m.Content["ename"], m.Content["evalue"])
		case "status":
			if m.Content["execution_state"] == "idle" {
				return out.String()
			}
		}
	}
}

// jsonOut runs bin/det with args and decodes its JSON output.
func jsonOut(t *testing.T, v any, args ...string) {
	t.Helper()
	out := run(t, filepath.Join(repo, "bin", "det"), args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("det %s: not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}
