package launcher

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/det-slurm/bridge/jobspec"
)

// TestMain lets the test binary play a notebook server: with
// DET_TEST_FAKE_JUPYTER set it serves Jupyter's status and list API, with
// the token, on the Unix socket its --ServerApp.sock names, and nowhere
// else.
func TestMain(m *testing.M) {
	if mode := os.Getenv("DET_TEST_FAKE_JUPYTER"); mode != "" {
		fakeJupyter(mode)
		return
	}
	os.Exit(m.Run())
}

func fakeJupyter(mode string) {
	if mode == "old" { // a Jupyter without Unix socket support
		fmt.Println("[W ServerApp] Config option `sock` not recognized by `ServerApp`.")
		time.Sleep(time.Minute)
		os.Exit(1)
	}
	var sock, base, conf string
	for _, a := range os.Args[1:] {
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			conf = v
		}
		if v, ok := strings.CutPrefix(a, "--ServerApp.sock="); ok {
			sock = v
		}
		if v, ok := strings.CutPrefix(a, "--ServerApp.base_url="); ok {
			base = v
		}
		if strings.HasPrefix(a, "--port") || strings.HasPrefix(a, "--ip") {
			fmt.Println("fake jupyter: was given a TCP address:", a)
			os.Exit(3)
		}
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Println("fake jupyter:", err)
		os.Exit(2)
	}
	if os.Getenv("JUPYTER_TOKEN") != "" {
		fmt.Println("fake jupyter: the token is in the environment, where kernels would inherit it")
		os.Exit(4)
	}
	var cfg struct{ ServerApp struct{ Token string } }
	data, err := os.ReadFile(conf)
	if err != nil || json.Unmarshal(data, &cfg) != nil || cfg.ServerApp.Token == "" {
		fmt.Println("fake jupyter: no token in the config file", conf, err)
		os.Exit(5)
	}
	token := cfg.ServerApp.Token
	http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token "+token {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		switch strings.TrimPrefix(r.URL.Path, base) {
		case "api/status":
			fmt.Fprint(w, `{}`)
		case "api/kernels", "api/terminals", "api/sessions":
			fmt.Fprint(w, `[]`)
		case "hello":
			fmt.Fprintf(w, "hello from %s", os.Getenv("DET_TEST_VALUE"))
		case "sock":
			fmt.Fprint(w, sock)
		default:
			http.NotFound(w, r)
		}
	}))
}

// fakeBridge records the launcher's callbacks; on ready it checks the
// port's proof as the bridge does and answers as verdict says.
type fakeBridge struct {
	mu     sync.Mutex
	calls  []string
	ready  chan jobspec.ReadyRequest
	proof  chan string
	taskID string
	key    string
}

func (b *fakeBridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.calls = append(b.calls, r.URL.Path)
	b.mu.Unlock()
	if strings.HasSuffix(r.URL.Path, "/ready") {
		var req jobspec.ReadyRequest
		json.Unmarshal(body, &req)
		b.proof <- proveFor(req.Port, b.taskID, b.key)
		b.ready <- req
	}
	w.WriteHeader(http.StatusNoContent)
}

// proveFor asks the port for its proof and says whether it is right.
func proveFor(port int, taskID, key string) string {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	nonce := strings.Repeat("ab", 16)
	fmt.Fprintf(c, "%s%s\n", jobspec.ProofPreamble, nonce)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err.Error()
	}
	if strings.TrimSpace(line) != jobspec.ProofAnswer(key, taskID, port, nonce) {
		return "wrong answer"
	}
	return "ok"
}

// fakeJupyterPath puts a jupyter-lab on PATH that runs this test binary
// as a fake notebook server in mode.
func fakeJupyterPath(t *testing.T, mode string) {
	t.Helper()
	bin := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\nexec env DET_TEST_FAKE_JUPYTER=%s %q \"$@\"\n", mode, self)
	if err := os.WriteFile(filepath.Join(bin, "jupyter-lab"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
}

func testSpec(t *testing.T, callback string) *jobspec.Spec {
	return &jobspec.Spec{
		TaskID: "task-1", Kind: jobspec.KindNotebook, JobDir: t.TempDir(), Runtime: "none",
		BaseURL: "/proxy/task-1/", JupyterToken: "tok", CallbackURL: callback, Secret: "s", ProofKey: "pk",
		Env: []string{"DET_TEST_VALUE=$(touch never)"}, HeartbeatSeconds: 1,
	}
}

// TestRunServesThroughHeldPort: the launcher holds the port before the
// notebook server starts, answers the bridge's proof on it, and splices
// requests to the server's Unix socket; the server is never given a TCP
// address; the socket folder is private and gone at the end.
func TestRunServesThroughHeldPort(t *testing.T) {
	fakeJupyterPath(t, "serve")
	fb := &fakeBridge{ready: make(chan jobspec.ReadyRequest, 1), proof: make(chan string, 1), taskID: "task-1", key: "pk"}
	srv := httptest.NewServer(fb)
	defer srv.Close()
	spec := testSpec(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() { code <- Run(ctx, spec, Options{ReadyTimeout: 20 * time.Second, Logger: quiet}) }()

	var req jobspec.ReadyRequest
	select {
	case req = <-fb.ready:
	case c := <-code:
		t.Fatalf("the launcher ended with %d before it reported ready", c)
	case <-time.After(20 * time.Second):
		t.Fatal("no ready callback")
	}
	if p := <-fb.proof; p != "ok" {
		t.Fatalf("proof of the reported port: %s", p)
	}
	get := func(path, token string) (int, string) {
		r, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/proxy/task-1/%s", req.Port, path), nil)
		if token != "" {
			r.Header.Set("Authorization", "token "+token)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatalf("GET %s through the port: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if c, body := get("hello", "tok"); c != http.StatusOK || body != "hello from $(touch never)" {
		t.Errorf("through the port with the token: %d %q", c, body)
	}
	if c, _ := get("hello", ""); c != http.StatusForbidden {
		t.Errorf("through the port without the token: %d", c)
	}
	_, sock := get("sock", "tok")
	sockDir := filepath.Dir(sock)
	if fi, err := os.Stat(sockDir); err != nil || fi.Mode().Perm() != 0o700 || !strings.HasPrefix(sockDir, "/tmp/det-jupyter-") || len(sock) > 100 {
		t.Errorf("socket %q: folder %v %v, want a private /tmp/det-jupyter-* and a short path", sock, fi, err)
	}
	cancel()
	select {
	case c := <-code:
		if c != 143 {
			t.Errorf("exit code %d, want 143", c)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the launcher did not stop")
	}
	if _, err := os.Stat(sockDir); err == nil {
		t.Errorf("the socket folder %s is left behind", sockDir)
	}
	if l, err := net.Listen("tcp", fmt.Sprintf(":%d", req.Port)); err != nil {
		t.Errorf("the port is still held after the end: %v", err)
	} else {
		l.Close()
	}
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if !strings.HasSuffix(fb.calls[len(fb.calls)-1], "/exit") {
		t.Errorf("callbacks %v", fb.calls)
	}
}

// TestRunRefusesJupyterWithoutSocket: a Jupyter that ignores the socket
// option ends the task at once with a message that says why.
func TestRunRefusesJupyterWithoutSocket(t *testing.T) {
	fakeJupyterPath(t, "old")
	fb := &fakeBridge{ready: make(chan jobspec.ReadyRequest, 1), proof: make(chan string, 1)}
	srv := httptest.NewServer(fb)
	defer srv.Close()
	spec := testSpec(t, srv.URL)
	start := time.Now()
	code := Run(context.Background(), spec, Options{ReadyTimeout: time.Minute, Logger: quiet})
	if code == 0 || time.Since(start) > 20*time.Second {
		t.Fatalf("exit %d after %s", code, time.Since(start))
	}
	data, err := os.ReadFile(filepath.Join(spec.JobDir, "exit.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec jobspec.ExitRecord
	json.Unmarshal(data, &rec)
	if rec.Message != noSocketMessage {
		t.Errorf("exit message %q", rec.Message)
	}
}
