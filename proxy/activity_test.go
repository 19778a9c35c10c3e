package proxy

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCountsHTTP(t *testing.T) {
	cases := []struct {
		method, target string
		upgrade        bool
		want           bool
	}{
		{"GET", "/proxy/x/api/kernels", false, false},
		{"GET", "/proxy/x/api/kernels/abc", false, false},
		{"GET", "/proxy/x/api/sessions?1", false, false},
		{"GET", "/proxy/x/api/terminals", false, false},
		{"GET", "/proxy/x/api/status", false, false},
		{"GET", "/proxy/x/api/contents/a.ipynb?content=1&no_track_activity=1", false, false},
		{"GET", "/proxy/x/api/kernels/abc/channels", true, false},
		{"POST", "/proxy/x/api/kernels", false, true},
		{"DELETE", "/proxy/x/api/kernels/abc", false, true},
		{"PUT", "/proxy/x/api/contents/a.ipynb", false, true},
		{"GET", "/proxy/x/api/contents/a.ipynb?content=1", false, true},
		{"GET", "/proxy/x/lab/tree/a.ipynb", false, true},
		// The file browser refreshes the folder it shows on its own.
		{"GET", "/proxy/x/api/contents?content=1&1795934823048", false, false},
		{"GET", "/proxy/x/api/contents/data/run1?content=1&1795934823048", false, false},
		{"GET", "/proxy/x/api/contents/data.d?type=directory&content=1", false, false},
		{"GET", "/proxy/x/static/favicons/favicon-busy-1.ico", false, false},
		// A person opens a file.
		{"GET", "/proxy/x/api/contents/notes/README?type=file&format=text&content=1", false, true},
		{"GET", "/proxy/x/api/contents/a.ipynb?type=notebook&content=1", false, true},
		{"PATCH", "/proxy/x/api/contents/a.ipynb", false, true},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.target, nil)
		if c.upgrade {
			r.Header.Set("Upgrade", "websocket")
		}
		rest := strings.TrimPrefix(r.URL.Path, "/proxy/x/")
		if got := countsHTTP(r, rest); got != c.want {
			t.Errorf("%s %s: counts=%v, want %v", c.method, c.target, got, c.want)
		}
	}
}

func TestCountsMessage(t *testing.T) {
	status := `{"header": {"msg_id": "1", "msg_type": "status", "username": "u"}, "parent_header": {"msg_type": "execute_request"}}`
	stream := `{"header":{"msg_id":"2","msg_type":"stream"},"parent_header":{}}`
	execReq := `{"header":{"msg_id":"3","msg_type":"execute_request"}}`
	info := `{"header":{"msg_id":"4","msg_type":"kernel_info_request"}}`
	cases := []struct {
		kind     wsKind
		toServer bool
		msg      string
		want     bool
	}{
		{wsKernel, false, status, false},
		{wsKernel, false, stream, true},
		{wsKernel, true, execReq, true},
		{wsKernel, true, info, false},
		{wsTerminal, true, `["stdin", "l"]`, true},
		{wsTerminal, true, `["set_size", 24, 80]`, false},
		{wsTerminal, false, `["stdout", "x"]`, false},
		{wsOther, false, `anything`, true},
		{wsEvents, false, `{"schema_id":"https://events.jupyter.org/jupyter_server/contents_service/v1","action":"get"}`, false},
	}
	if kindOf("api/events/subscribe") != wsEvents {
		t.Error("Jupyter's event stream is not told apart")
	}
	if !countsMessage(wsShell, true, 0x2, []byte("l")) || countsMessage(wsShell, true, 0x1, []byte(`{"type":"resize"}`)) || countsMessage(wsShell, false, 0x2, []byte("output")) {
		t.Error("a shell counts only keystrokes")
	}
	for _, c := range cases {
		if got := countsMessage(c.kind, c.toServer, 0x1, []byte(c.msg)); got != c.want {
			t.Errorf("%v %v %s: %v, want %v", c.kind, c.toServer, c.msg, got, c.want)
		}
	}
}

// frame builds one websocket frame.
func frame(opcode byte, payload []byte, masked bool) []byte {
	var b bytes.Buffer
	b.WriteByte(0x80 | opcode)
	m := byte(0)
	if masked {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b.WriteByte(m | byte(n))
	case n < 65536:
		b.WriteByte(m | 126)
		_ = binary.Write(&b, binary.BigEndian, uint16(n))
	default:
		b.WriteByte(m | 127)
		_ = binary.Write(&b, binary.BigEndian, uint64(n))
	}
	key := [4]byte{1, 2, 3, 4}
	if masked {
		b.Write(key[:])
		for i, c := range payload {
			b.WriteByte(c ^ key[i%4])
		}
	} else {
		b.Write(payload)
	}
	return b.Bytes()
}

func TestFrameScannerAnyChunking(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 70000)
	msgs := [][]byte{[]byte("hello"), []byte(""), bytes.Repeat([]byte("m"), 300), big}
	for _, masked := range []bool{false, true} {
		var stream []byte
		for _, m := range msgs {
			stream = append(stream, frame(0x1, m, masked)...)
			stream = append(stream, frame(0x9, []byte("ping"), masked)...) // control frames are not messages
		}
		for trial := 0; trial < 50; trial++ {
			var heads [][]byte
			s := newFrameScanner(func(_ byte, h []byte) { heads = append(heads, append([]byte(nil), h...)) })
			rest := stream
			for len(rest) > 0 {
				n := 1 + rand.IntN(min(len(rest), 2000))
				s.scan(rest[:n])
				rest = rest[n:]
			}
			if len(heads) != len(msgs) {
				t.Fatalf("masked=%v: %d messages seen, want %d", masked, len(heads), len(msgs))
			}
			for i, m := range msgs {
				want := m[:min(len(m), peekSize)]
				if !bytes.Equal(heads[i], want) {
					t.Fatalf("masked=%v message %d: head %q, want %q", masked, i, heads[i][:min(20, len(heads[i]))], want[:min(20, len(want))])
				}
			}
		}
	}
}
