package launcher

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/jobspec"
)

// TestShellOutputIsNeverControl: a program that prints what looks like the
// exit message neither ends the session nor sets its status; the shell's
// real exit does, after its last output.
func TestShellOutputIsNeverControl(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", `printf '{"type":"exit","code":0}\n'; read line; printf '{"type":"exit","code":7}'; echo; echo bye; exit 5`)
	ptmx, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	sess, conn := attachShell(t, ptmx)
	read := screenReader(t, conn)
	read(`{"type":"exit","code":0}`)
	if err := conn.WriteMessage(websocket.BinaryMessage, []byte("go\r")); err != nil {
		t.Fatal(err)
	}
	read("bye")

	waited := make(chan int, 1)
	go func() {
		err := cmd.Wait()
		code, _ := exitCode(err)
		<-sess.drained
		sess.exit(code)
		waited <- code
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		mt, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("no exit message: %v", err)
		}
		if mt == websocket.BinaryMessage {
			continue // the rest of the output
		}
		var c jobspec.ShellControl
		if err := json.Unmarshal(data, &c); err != nil || c.Type != jobspec.ShellExit || c.Code != 5 {
			t.Fatalf("control message %q, want the exit with 5", data)
		}
		break
	}
	conn.Close() // as det does once it has the exit status
	if code := <-waited; code != 5 {
		t.Fatalf("shell exited %d", code)
	}
}

// TestShellResize: a text frame from a client is a control message; a
// binary frame that looks like one is keystrokes.
func TestShellResize(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "read line; stty size; read line; stty size")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	_, conn := attachShell(t, ptmx)
	waitFor := screenReader(t, conn)
	msg, _ := json.Marshal(jobspec.ShellControl{Type: jobspec.ShellResize, Rows: 41, Cols: 123})
	_ = conn.WriteMessage(websocket.BinaryMessage, append(msg, '\r'))
	waitFor("24 80")
	_ = conn.WriteMessage(websocket.TextMessage, msg)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if rows, cols, err := pty.Getsize(ptmx); err == nil && rows == 41 && cols == 123 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the resize did not reach the terminal")
		}
	}
	_ = conn.WriteMessage(websocket.BinaryMessage, []byte("\r"))
	waitFor("41 123")
}

// TestShellExitWaitsForClients: exit returns as soon as each client has
// taken the exit message and hung up, not after a fixed pause; a client
// that never reads is cut off after exitWait.
func TestShellExitWaitsForClients(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "read line")
	ptmx, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sess := newShellSession(ptmx, "tok", slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(sess)
	defer srv.Close()
	dial := func() *websocket.Conn {
		t.Helper()
		conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), http.Header{"Authorization": {"token tok"}})
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	attached := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			sess.mu.Lock()
			k := len(sess.clients)
			sess.mu.Unlock()
			if k == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d clients attached, want %d", k, n)
			}
		}
	}

	// A client that reads: it gets the exit and the close, answers the
	// close, and exit returns at once.
	reader := dial()
	defer reader.Close()
	attached(1)
	got := make(chan string, 1)
	go func() {
		for {
			mt, data, err := reader.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					got <- "close"
				} else {
					got <- err.Error()
				}
				return
			}
			if mt == websocket.TextMessage {
				var c jobspec.ShellControl
				if json.Unmarshal(data, &c) != nil || c.Type != jobspec.ShellExit || c.Code != 4 {
					got <- "bad control message " + string(data)
					return
				}
			}
		}
	}()
	sess.exitWait = time.Minute
	began := time.Now()
	sess.exit(4)
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("exit took %s with a client that answers", took)
	}
	if g := <-got; g != "close" {
		t.Fatalf("the client got %q, want the exit message then the close", g)
	}

	// A client that never reads is cut off after exitWait.
	stuck := dial()
	defer stuck.Close()
	attached(1)
	sess.exitWait = 200 * time.Millisecond
	began = time.Now()
	sess.exit(0)
	if took := time.Since(began); took < sess.exitWait || took > 10*time.Second {
		t.Errorf("exit with a client that never reads took %s, want about %s", took, sess.exitWait)
	}
	_ = stuck.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := stuck.ReadMessage(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the client that never read was not cut off")
			}
			break
		}
	}
}

// attachShell serves a shell session on ptmx and attaches a client to it
// with the task's token; both end with the test.
func attachShell(t *testing.T, ptmx *os.File) (*shellSession, *websocket.Conn) {
	t.Helper()
	sess := newShellSession(ptmx, "tok", slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(sess)
	t.Cleanup(srv.Close)
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), http.Header{"Authorization": {"token tok"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return sess, conn
}

// screenReader returns a function that reads terminal output, which must
// come in binary frames, until the screen shows a text.
func screenReader(t *testing.T, conn *websocket.Conn) func(until string) {
	var screen bytes.Buffer
	return func(until string) {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for !strings.Contains(screen.String(), until) {
			mt, data, err := conn.ReadMessage()
			if err != nil {
				t.Fatalf("waiting for %q: %v; so far %q", until, err, screen.String())
			}
			if mt != websocket.BinaryMessage {
				t.Fatalf("terminal output came as a %d frame: %q", mt, data)
			}
			screen.Write(data)
		}
	}
}
