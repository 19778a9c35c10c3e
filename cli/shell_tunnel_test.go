package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// sshBridge is a fake bridge's SSH websocket: it sends a text message
// (not SSH's), echoes binary messages, and once the client closes its
// side, sends trailer and closes too, as a bridge does with what the
// server still sends after the client's half-close. With drop, it
// drops the connection after the first message instead.
func sshBridge(t *testing.T, trailer string, drop bool) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetCloseHandler(func(int, string) error { return nil }) // answered below, after the trailer
		_ = conn.WriteMessage(websocket.TextMessage, []byte("not for stdout"))
		for {
			mt, data, err := conn.ReadMessage()
			if err != nil {
				break
			}
			if drop {
				return
			}
			if mt == websocket.BinaryMessage {
				_ = conn.WriteMessage(websocket.BinaryMessage, data)
			}
		}
		_ = conn.WriteMessage(websocket.BinaryMessage, []byte(trailer))
		_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func runningShell() client.Launched {
	return client.Launched{Task: api.Notebook{ID: "8f3a-full", State: api.StateRunning}}
}

// TestShellTunnel: det shell tunnel resolves the prefix, dials the
// shell's SSH websocket by its full id and copies the bytes both ways;
// after standard input ends it still writes what comes until the bridge
// closes. Standard output carries those bytes only.
func TestShellTunnel(t *testing.T) {
	detEnv(t, "alice")
	f := &fakeClient{launched: runningShell(), ssh: sshBridge(t, "SSH trailer", false)}
	in := make([]byte, 1<<20)
	_, _ = rand.Read(in)
	out, errOut, code := runFake(t, f, string(in), "shell", "tunnel", "8f3a")
	if code != 0 || errOut != "" || !f.called("Get shell 8f3a") || !f.called("DialSSH 8f3a-full") {
		t.Fatalf("exit %d, calls %v: %s", code, f.calls, errOut)
	}
	if want := string(in) + "SSH trailer"; out != want {
		t.Errorf("copied %d bytes, want %d (equal: %t)", len(out), len(want), strings.HasPrefix(out, string(in)))
	}
}

// TestShellTunnelBridgeCloses: the tunnel ends when the bridge closes,
// with standard input still open.
func TestShellTunnelBridgeCloses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.WriteMessage(websocket.BinaryMessage, []byte("SSH-2.0-det-launcher\r\n"))
		_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		_, _, _ = conn.ReadMessage()
	}))
	defer srv.Close()
	f := &fakeClient{launched: runningShell(), ssh: "ws" + strings.TrimPrefix(srv.URL, "http")}
	in, w := io.Pipe()
	defer w.Close()
	var out, errOut bytes.Buffer
	err := runShellTunnel(context.Background(), "8f3a", f, newConsole(IO{In: in, Out: &out, ErrOut: &errOut}))
	if err != nil || out.String() != "SSH-2.0-det-launcher\r\n" {
		t.Errorf("%v, printed %q", err, out.String())
	}
}

// TestShellTunnelFailures: a dropped connection, a refused dial and an
// ended shell end the tunnel with an error on standard error and a
// non-zero exit.
func TestShellTunnelFailures(t *testing.T) {
	detEnv(t, "alice")
	f := &fakeClient{launched: runningShell(), ssh: sshBridge(t, "", true)}
	out, errOut, code := runFake(t, f, "SSH-2.0-OpenSSH\r\n", "shell", "tunnel", "8f3a")
	if code != 1 || out != "" || !strings.Contains(errOut, "the connection to the shell's SSH server ended") {
		t.Errorf("dropped: exit %d: %q %s", code, out, errOut)
	}
	f.errs = map[string]error{"DialSSH": errors.New("the bridge answered 403 Forbidden: not your shell")}
	out, errOut, code = runFake(t, f, "", "shell", "tunnel", "8f3a")
	if code != 1 || out != "" || errOut != "Error: connect to the SSH server of shell 8f3a-full: the bridge answered 403 Forbidden: not your shell\n" {
		t.Errorf("refused: exit %d: %q %s", code, out, errOut)
	}
	f.launched.Task.State = api.StateTerminated
	if _, errOut, code := runFake(t, f, "", "shell", "tunnel", "8f3a"); code != 1 || !strings.Contains(errOut, "shell 8f3a-full has ended") {
		t.Errorf("ended: exit %d: %s", code, errOut)
	}
}
