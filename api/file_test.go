package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestUnixSeconds: mtime comes as a string (Determined's v1File) or a
// number (its older shell launch), and goes as a string.
func TestUnixSeconds(t *testing.T) {
	for in, want := range map[string]UnixSeconds{`"1700000000"`: 1700000000, `1700000000`: 1700000000, `1.7e9`: 1700000000, `1700000000.9`: 1700000000, `null`: 0, `"-5"`: -5} {
		var u UnixSeconds
		if err := json.Unmarshal([]byte(in), &u); err != nil || u != want {
			t.Errorf("%s: %d %v, want %d", in, u, err, want)
		}
	}
	for _, in := range []string{`"soon"`, `true`, `"NaN"`, `1e300`, `""`} {
		var u UnixSeconds
		if err := json.Unmarshal([]byte(in), &u); err == nil || !strings.Contains(err.Error(), "mtime") {
			t.Errorf("%s: %d %v, want an error naming mtime", in, u, err)
		}
	}
	out, _ := json.Marshal(File{Path: "a", Type: FileTypeRegular, Mtime: 42})
	if want := `{"path":"a","type":48,"content":"","mode":0,"mtime":"42","uid":0,"gid":0}`; string(out) != want {
		t.Errorf("encoded %s, want %s", out, want)
	}
}

func TestStateName(t *testing.T) {
	for in, want := range map[string]string{StateRunning: "RUNNING", StateTerminated: "TERMINATED", "QUEUED": "QUEUED", "": ""} {
		if got := StateName(in); got != want {
			t.Errorf("StateName(%q) = %q, want %q", in, got, want)
		}
	}
}
