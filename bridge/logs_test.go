package bridge

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// jobFolderWith makes <tmp>/user/id holding output.log with data, owned by
// a non-root uid when the test runs as root (as the bridge requires).
func jobFolderWith(t *testing.T, data string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "user", "id")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "output.log"), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		for _, p := range []string{dir, filepath.Join(dir, "output.log")} {
			if err := os.Chown(p, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// TestOutputReaderBounds: a job's user controls its output file; a line
// without end is cut, a flood of empty lines comes in bounded batches, and
// a tail starts near the end.
func TestOutputReaderBounds(t *testing.T) {
	long := jobFolderWith(t, strings.Repeat("x", 3<<20))
	o := &outputReader{dir: long}
	lines := o.batch(true)
	if len(lines) != (3<<20)/maxLine {
		t.Errorf("a 3 MiB line gave %d lines, want %d cut at %d bytes", len(lines), (3<<20)/maxLine, maxLine)
	}
	for _, l := range lines {
		if len(l.text) > maxLine {
			t.Fatalf("a line of %d bytes", len(l.text))
		}
	}

	flood := jobFolderWith(t, strings.Repeat("\n", 4<<20))
	o = &outputReader{dir: flood}
	total := 0
	for i := 0; i < 100; i++ {
		b := o.batch(true)
		if len(b)*64 > 2*batchBytes {
			t.Fatalf("one batch holds %d lines", len(b))
		}
		total += len(b)
		if !o.more {
			break
		}
	}
	if total != 4<<20 {
		t.Errorf("read %d of %d lines", total, 4<<20)
	}

	var sb strings.Builder
	for i := 0; i < 300000; i++ {
		sb.WriteString("line\n")
	}
	sb.WriteString("last\n")
	o = &outputReader{dir: jobFolderWith(t, sb.String())}
	o.fromEnd()
	b := o.tailLines(10, true, func(logLine) bool { return true })
	if len(b) != 10 || b[len(b)-1].text != "last" {
		t.Errorf("tail read %d lines ending %q", len(b), b[len(b)-1].text)
	}
}

// TestOutputReaderIDs: a line's id is the offset where it starts, the
// same whether the file is read from its start or from near its end, and
// the pieces of a cut line have ids of their own.
func TestOutputReaderIDs(t *testing.T) {
	var sb strings.Builder
	for sb.Len() < tailWindow+(1<<20) {
		sb.WriteString("some line of output\n")
	}
	sb.WriteString(strings.Repeat("y", maxLine+10))
	data := sb.String()
	dir := jobFolderWith(t, data)
	full := &outputReader{dir: dir}
	var all []logLine
	for {
		all = append(all, full.batch(true)...)
		if !full.more {
			break
		}
	}
	tail := &outputReader{dir: dir}
	tail.fromEnd()
	last := tail.tailLines(3, true, func(logLine) bool { return true })
	for i := range last {
		if got, want := last[i].id, all[len(all)-3+i].id; got != want {
			t.Errorf("tail line %d has id %s, the whole read %s", i, got, want)
		}
	}
	start := len(data) - (maxLine + 10)
	if a, b := all[len(all)-2].id, all[len(all)-1].id; a != "job-"+strconv.Itoa(start) || b != "job-"+strconv.Itoa(start+maxLine) {
		t.Errorf("the pieces of the cut line have ids %s and %s, want job-%d and job-%d", a, b, start, start+maxLine)
	}
}
