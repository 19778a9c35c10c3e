package launcher

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/bridge/api"
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
	sess := newShellSession(ptmx, "tok", slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(sess)
	defer srv.Close()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), http.Header{"Authorization": {"token tok"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	var screen bytes.Buffer
	read := func(until string) {
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
		var c api.ShellControl
		if err := json.Unmarshal(data, &c); err != nil || c.Type != api.ShellExit || c.Code != 5 {
			t.Fatalf("control message %q, want the exit with 5", data)
		}
		break
	}
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
	sess := newShellSession(ptmx, "tok", slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(sess)
	defer srv.Close()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), http.Header{"Authorization": {"token tok"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var screen bytes.Buffer
	waitFor := func(s string) {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for !strings.Contains(screen.String(), s) {
			_, data, err := conn.ReadMessage()
			if err != nil {
				t.Fatalf("waiting for %q: %v; so far %q", s, err, screen.String())
			}
			screen.Write(data)
		}
	}
	msg, _ := json.Marshal(api.ShellControl{Type: api.ShellResize, Rows: 41, Cols: 123})
	_ = conn.WriteMessage(websocket.BinaryMessage, append(msg, '\r'))
	waitFor("24 80")
	_ = conn.WriteMessage(websocket.TextMessage, msg)
	time.Sleep(100 * time.Millisecond)
	_ = conn.WriteMessage(websocket.BinaryMessage, []byte("\r"))
	waitFor("41 123")
}
