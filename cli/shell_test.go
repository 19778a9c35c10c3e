package cli

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
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
