package proxy

import (
	"bytes"
	"net/http"
	"strings"
)

// What counts as activity. Page polling that no person caused does not:
// requests marked no_track_activity=1, the periodic GETs of kernels,
// sessions, terminals and status, the file browser's refresh of the folder
// it shows (a contents GET that opens no file), JupyterLab's favicon swaps,
// websocket (re)connects, kernel status messages and the server's events
// stream. Code execution, saves, file opens and terminal keystrokes do.

// pollPrefixes are API paths that JupyterLab polls on its own.
var pollPrefixes = []string{"api/kernels", "api/sessions", "api/terminals", "api/status", "api/kernelspecs", "api/me"}

// countsHTTP reports whether a proxied request is activity; rest is the
// path after /proxy/<id>/.
func countsHTTP(r *http.Request, rest string) bool {
	if strings.Contains(r.URL.RawQuery, "no_track_activity=1") {
		return false
	}
	if IsUpgrade(r) {
		return false // a (re)connect is not use; its messages are
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		for _, p := range pollPrefixes {
			if rest == p || strings.HasPrefix(rest, p+"/") || strings.HasPrefix(rest, p+"?") {
				return false
			}
		}
		if rest == "api/contents" || strings.HasPrefix(rest, "api/contents/") {
			return opensFile(strings.TrimPrefix(rest, "api/contents"), r.URL.RawQuery)
		}
		if strings.HasPrefix(rest, "static/favicons/") {
			return false
		}
	}
	return true
}

// opensFile is true for a contents GET that opens a file or notebook
// (type=file or type=notebook, or a name with an extension and no type),
// not for a folder listing, which the file browser repeats on its own
// every few seconds.
func opensFile(path, rawQuery string) bool {
	for _, kv := range strings.Split(rawQuery, "&") {
		switch kv {
		case "type=file", "type=notebook":
			return true
		case "type=directory":
			return false
		}
	}
	base := path[strings.LastIndexByte(path, '/')+1:]
	return strings.Contains(base, ".") && !strings.HasPrefix(base, ".")
}

// IsUpgrade reports whether r asks to become a websocket.
func IsUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// wsKind says how a websocket's messages are judged.
type wsKind int

const (
	wsOther    wsKind = iota // every data message counts
	wsKernel                 // Jupyter kernel channels: status and info replies do not count
	wsTerminal               // Jupyter terminal: only the user's input counts
	wsShell                  // a det shell: only keystrokes (binary messages to the server) count
	wsEvents                 // Jupyter's event stream: only what the client sends counts
)

func kindOf(rest string) wsKind {
	switch {
	case strings.HasPrefix(rest, "api/kernels/") && strings.Contains(rest, "/channels"):
		return wsKernel
	case strings.HasPrefix(rest, "terminals/websocket/"):
		return wsTerminal
	case rest == "shell":
		return wsShell
	case strings.HasPrefix(rest, "api/events/subscribe"):
		return wsEvents
	}
	return wsOther
}

// countsMessage judges one websocket message by its opcode and first
// bytes. toServer is true for messages from the client to the server.
func countsMessage(kind wsKind, toServer bool, opcode byte, head []byte) bool {
	switch kind {
	case wsShell:
		return toServer && opcode == 0x2
	case wsEvents:
		return toServer
	case wsKernel:
		switch msgType(head) {
		case "status", "kernel_info_request", "kernel_info_reply", "comm_info_request", "comm_info_reply":
			return false
		}
		return true
	case wsTerminal:
		return toServer && bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte(`["stdin"`))
	}
	return true
}

var msgTypeKey = []byte(`"msg_type"`)

// msgType finds the first "msg_type" value in a Jupyter message (JSON or
// the binary v1 protocol, where the header also comes first).
func msgType(head []byte) string {
	i := bytes.Index(head, msgTypeKey)
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(head[i+len(msgTypeKey):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 {
		return ""
	}
	return string(rest[1 : 1+end])
}
