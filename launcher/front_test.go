package launcher

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/jobspec"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// sockPath is a short Unix socket path (t.TempDir's may pass the limit).
func sockPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "det-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s.sock")
}

// testFront is a front on loopback with key, splicing to a server on a
// Unix socket.
func testFront(t *testing.T, key string, h http.Handler) (*front, string) {
	t.Helper()
	sock := sockPath(t)
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ul)
	t.Cleanup(func() { srv.Close() })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := newFront(l, "task-1", key, quiet)
	t.Cleanup(func() { f.Close() })
	go spliceTo(f, sock, quiet)
	return f, sock
}

func askProof(t *testing.T, port int, req string) (string, error) {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	for i := 0; i < len(req); i++ { // a byte at a time: the front must wait for the line
		if _, err := c.Write([]byte{req[i]}); err != nil {
			return "", err
		}
	}
	return bufio.NewReader(c).ReadString('\n')
}

// TestFrontSplicesHTTP: requests on the TCP port reach the server on the
// Unix socket unchanged, bodies both ways, with keep-alive, including a
// method that starts like the proof preamble.
func TestFrontSplicesHTTP(t *testing.T) {
	f, _ := testFront(t, "k", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s %d ", r.Method, r.URL.Path, r.Header.Get("Authorization"), len(body))
		w.Write(body)
	}))
	base := fmt.Sprintf("http://127.0.0.1:%d", f.port)
	c := &http.Client{Timeout: 10 * time.Second}
	big := make([]byte, 1<<20)
	rand.Read(big)
	for _, m := range []string{"GET", "DELETE", "POST"} {
		var body io.Reader
		if m == "POST" {
			body = bytes.NewReader(big)
		}
		req, _ := http.NewRequest(m, base+"/proxy/x/api/status", body)
		req.Header.Set("Authorization", "token abc")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s through the front: %v", m, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		n := 0
		if m == "POST" {
			n = len(big)
		}
		prefix := fmt.Sprintf("%s /proxy/x/api/status token abc %d ", m, n)
		if !bytes.HasPrefix(got, []byte(prefix)) || (m == "POST" && !bytes.Equal(got[len(prefix):], big)) {
			t.Fatalf("%s: got %q...", m, got[:min(len(got), 80)])
		}
	}
}

// TestFrontSplicesRawBytes: after an HTTP upgrade the bytes go both ways
// untouched (a websocket), and a raw stream sent a byte at a time, starting
// like the preamble, arrives whole.
func TestFrontSplicesRawBytes(t *testing.T) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	f, _ := testFront(t, "k", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			mt, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			conn.WriteMessage(mt, append([]byte("echo:"), data...))
		}
	}))
	conn, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/proxy/x/api/kernels/k/channels", f.port), nil)
	if err != nil {
		t.Fatalf("websocket through the front: %v", err)
	}
	defer conn.Close()
	for i, msg := range [][]byte{[]byte("hello"), bytes.Repeat([]byte{0, 0xff, '\n'}, 50000), []byte(jobspec.ProofPreamble + "00\n")} {
		mt := websocket.BinaryMessage
		if i == 0 {
			mt = websocket.TextMessage
		}
		if err := conn.WriteMessage(mt, msg); err != nil {
			t.Fatal(err)
		}
		gotType, got, err := conn.ReadMessage()
		if err != nil || gotType != mt || !bytes.Equal(got, append([]byte("echo:"), msg...)) {
			t.Fatalf("message %d: type %d, %d bytes, %v", i, gotType, len(got), err)
		}
	}

	// A raw stream: the front never parses what it splices.
	sock := sockPath(t)
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	go func() {
		c, err := ul.Accept()
		if err != nil {
			return
		}
		data, _ := io.ReadAll(c) // until the client's half-close
		c.Write(bytes.ToUpper(data))
		c.Close()
	}()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	f2 := newFront(l, "task-1", "k", quiet)
	defer f2.Close()
	go spliceTo(f2, sock, quiet)
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := "DET-PROOx not a proof, " + strings.Repeat("abc", 10000)
	for i := 0; i < 12; i++ {
		c.Write([]byte{msg[i]})
		time.Sleep(time.Millisecond)
	}
	c.Write([]byte(msg[12:]))
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != strings.ToUpper(msg) {
		t.Fatalf("raw stream: %d bytes back, %v", len(got), err)
	}
}

// TestFrontProof: the preamble is answered with the task's proof for the
// port the front holds and never reaches the notebook server; a wrong key
// gives another answer; a bad nonce or a front without a key, none.
func TestFrontProof(t *testing.T) {
	reached := make(chan string, 10)
	f, _ := testFront(t, "the-key", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- r.URL.Path
	}))
	nonce := "0123456789abcdef0123456789abcdef"
	got, err := askProof(t, f.port, jobspec.ProofPreamble+nonce+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := jobspec.ProofAnswer("the-key", "task-1", f.port, nonce) + "\n"; got != want {
		t.Fatalf("answer %q, want %q", got, want)
	}
	if got == jobspec.ProofAnswer("other-key", "task-1", f.port, nonce)+"\n" {
		t.Fatal("another key gives the same answer")
	}
	if got2, _ := askProof(t, f.port, jobspec.ProofPreamble+nonce+"\r\n"); got2 != got {
		t.Errorf("CRLF line: %q", got2)
	}
	for _, bad := range []string{jobspec.ProofPreamble + "abc\n", jobspec.ProofPreamble + strings.Repeat("0", 200) + "\n", jobspec.ProofPreamble + "$(id)0123456789abcdef0123456789\n"} {
		if got, _ := askProof(t, f.port, bad); got != "" {
			t.Errorf("%q answered %q", bad, got)
		}
	}
	select {
	case p := <-reached:
		t.Fatalf("a proof request reached the notebook server: %s", p)
	case <-time.After(100 * time.Millisecond):
	}

	l, _ := net.Listen("tcp", "127.0.0.1:0")
	nokey := newFront(l, "task-1", "", quiet)
	defer nokey.Close()
	if got, _ := askProof(t, nokey.port, jobspec.ProofPreamble+nonce+"\n"); got != "" {
		t.Errorf("a front without a key answered %q", got)
	}
}

// TestFrontHoldsPort: while the front is open no one else can listen on
// its port, on any address.
func TestFrontHoldsPort(t *testing.T) {
	f, err := listenFront("task-1", "k", quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, addr := range []string{"127.0.0.1", "0.0.0.0", ""} {
		l, err := net.Listen("tcp", net.JoinHostPort(addr, fmt.Sprint(f.port)))
		if err == nil {
			l.Close()
			t.Errorf("listen on %q:%d succeeded while the front holds it", addr, f.port)
		}
	}
}

// TestUnixClient: the readiness and heartbeat client reaches the server
// on the socket whatever the URL says.
func TestUnixClient(t *testing.T) {
	sock := sockPath(t)
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token tok" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		switch r.URL.Path {
		case "/proxy/x/api/status":
		case "/proxy/x/api/kernels":
			fmt.Fprint(w, `[{"id":"k1","execution_state":"busy","connections":1}]`)
		default:
			fmt.Fprint(w, `[]`)
		}
	})}
	go srv.Serve(ul)
	defer srv.Close()
	spec := &jobspec.Spec{BaseURL: "/proxy/x/", JupyterToken: "tok"}
	c := unixClient(sock, 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := waitReady(ctx, c, spec); err != nil {
		t.Fatalf("waitReady over the socket: %v", err)
	}
	rep := Report(ctx, c, jupyterBase(spec), spec.JupyterToken, time.Now())
	if rep.Error != "" || len(rep.Kernels) != 1 || rep.Kernels[0].ExecutionState != "busy" {
		t.Fatalf("report %+v", rep)
	}
}

// TestFrontServesHTTPServer: an http.Server on the front (the shell's
// way) serves requests and websocket upgrades, and the proof is still
// answered by the front.
func TestFrontServesHTTPServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := newFront(l, "task-1", "k", quiet)
	up := websocket.Upgrader{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		mt, data, _ := conn.ReadMessage()
		conn.WriteMessage(mt, data)
	})}
	go srv.Serve(f)
	defer srv.Close()
	conn, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/", f.port), nil)
	if err != nil {
		t.Fatalf("websocket to an http.Server on the front: %v", err)
	}
	defer conn.Close()
	conn.WriteMessage(websocket.BinaryMessage, []byte("keys"))
	if _, got, err := conn.ReadMessage(); err != nil || string(got) != "keys" {
		t.Fatalf("echo %q %v", got, err)
	}
	nonce := strings.Repeat("0f", 16)
	if got, _ := askProof(t, f.port, jobspec.ProofPreamble+nonce+"\n"); got != jobspec.ProofAnswer("k", "task-1", f.port, nonce)+"\n" {
		t.Fatalf("proof beside the http.Server: %q", got)
	}
}

// TestFrontProofThenRequest: once the proof is answered, the same
// connection carries the bridge's HTTP request on to the notebook server.
func TestFrontProofThenRequest(t *testing.T) {
	f, _ := testFront(t, "the-key", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "reached %s", r.URL.Path)
	}))
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", f.port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	nonce := "0123456789abcdef0123456789abcdef"
	io.WriteString(c, jobspec.ProofPreamble+nonce+"\nGET /after-proof HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil || line != jobspec.ProofAnswer("the-key", "task-1", f.port, nonce)+"\n" {
		t.Fatalf("proof %q, %v", line, err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "reached /after-proof" {
		t.Fatalf("after the proof: %d %q", resp.StatusCode, body)
	}
}
