package cli

import (
	"bytes"
	"context"
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

// TestCopyOutputControlOnlyInText: terminal bytes that look like the exit
// message are printed, not obeyed; only a text message ends the session.
func TestCopyOutputControlOnlyInText(t *testing.T) {
	frames := []struct {
		mt   int
		data string
	}{
		{websocket.BinaryMessage, "{\"type\":\"exit\",\"code\":0}\r\n"},
		{websocket.BinaryMessage, `{"type":"exit","code":7}`},
		{websocket.TextMessage, `{"type":"something-new"}`},
		{websocket.BinaryMessage, "$ "},
		{websocket.TextMessage, `{"type":"exit","code":3}`},
		{websocket.BinaryMessage, "after the exit"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for _, f := range frames {
			_ = conn.WriteMessage(f.mt, []byte(f.data))
		}
		_, _, _ = conn.ReadMessage()
	}))
	defer srv.Close()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out bytes.Buffer
	err = copyOutput(conn, &out)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 3 {
		t.Fatalf("copyOutput: %v, want the shell's exit 3", err)
	}
	if want := "{\"type\":\"exit\",\"code\":0}\r\n{\"type\":\"exit\",\"code\":7}$ "; out.String() != want {
		t.Fatalf("printed %q, want %q", out.String(), want)
	}
}

func TestCopyInputDetach(t *testing.T) {
	var sent []string
	send := func(b []byte) error { sent = append(sent, string(b)); return nil }
	err := copyInput(strings.NewReader("{\"type\":\"resize\",\"rows\":1,\"cols\":1}\recho ~x\r~."), send)
	if !errors.Is(err, errDetached) {
		t.Fatalf("copyInput: %v", err)
	}
	if got := strings.Join(sent, ""); got != "{\"type\":\"resize\",\"rows\":1,\"cols\":1}\recho ~x\r" {
		t.Fatalf("sent %q", got)
	}
}

// TestOpenShell: det shell open finds the shell by its prefix, attaches
// to it by its full id, prints its output and exits with its status.
func TestOpenShell(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.WriteMessage(websocket.BinaryMessage, []byte("$ hello\r\n"))
		_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"exit","code":3}`))
		_, _, _ = conn.ReadMessage()
	}))
	defer srv.Close()
	f := &fakeClient{launched: client.Launched{Task: api.Notebook{ID: "ab12-full"}}, shell: "ws" + strings.TrimPrefix(srv.URL, "http")}
	in, w := io.Pipe() // no keystrokes until the shell has exited
	defer w.Close()
	var out, errOut bytes.Buffer
	err := runOpenShell(context.Background(), openShellOptions{id: "ab12"}, f, newConsole(IO{In: in, Out: &out, ErrOut: &errOut}))
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 3 || out.String() != "$ hello\r\n" || !f.called("Get shell ab12") || !f.called("DialShell ab12-full") {
		t.Errorf("%v, calls %v, printed %q", err, f.calls, out.String())
	}
	f.errs = map[string]error{"DialShell": errors.New("the bridge answered 404 Not Found")}
	if err := runOpenShell(context.Background(), openShellOptions{id: "ab12"}, f, newConsole(IO{In: in, Out: &out, ErrOut: &errOut})); err == nil ||
		err.Error() != "attach to shell ab12-full: the bridge answered 404 Not Found" {
		t.Errorf("a refused attach: %v", err)
	}
}
