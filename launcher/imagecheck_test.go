package launcher

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/det-slurm/bridge/jobspec"
)

func TestCheckImage(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.sif")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sandbox := filepath.Join(dir, "sandbox")
	if err := os.MkdirAll(filepath.Join(sandbox, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The smallest squashfs the runtime recognises: a superblock with the
	// magic and zlib compression, in a file of at least 4 KiB.
	sq := make([]byte, 4096)
	copy(sq, "hsqs")
	binary.LittleEndian.PutUint16(sq[20:], 1)
	squash := filepath.Join(dir, "image.sqfs")
	text := filepath.Join(dir, "notes.txt")
	for p, data := range map[string][]byte{squash: sq, text: []byte("not an image\n")} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "current.sqfs")
	fifoLink := filepath.Join(dir, "fifo-link.sif")
	if err := os.Symlink(squash, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(fifo, fifoLink); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path    string
		want    jobspec.ImageCheck
		problem string
	}{
		{sandbox, jobspec.ImageCheck{Type: "sandbox"}, ""},
		{squash, jobspec.ImageCheck{Type: "squashfs"}, ""},
		{link, jobspec.ImageCheck{Type: "squashfs"}, ""},
		{text, jobspec.ImageCheck{}, jobspec.ImageFormat},
		{fifo, jobspec.ImageCheck{}, jobspec.ImageNotFile},
		{fifoLink, jobspec.ImageCheck{}, jobspec.ImageNotFile},
		{"/dev/null", jobspec.ImageCheck{}, jobspec.ImageNotFile},
		{filepath.Join(dir, "missing.sif"), jobspec.ImageCheck{}, jobspec.ImageUnreadable},
		{filepath.Join(text, "x.sif"), jobspec.ImageCheck{}, jobspec.ImageUnreadable},
		{"relative.sif", jobspec.ImageCheck{}, jobspec.ImageUnreadable},
	}
	for _, c := range cases {
		began := time.Now()
		got := CheckImage(c.path, 5*time.Second)
		if took := time.Since(began); took > 2*time.Second {
			t.Errorf("%s: took %s", c.path, took)
		}
		if c.problem == "" && got != c.want {
			t.Errorf("%s: %+v, want %+v", c.path, got, c.want)
		}
		if c.problem != "" && (got.Problem != c.problem || got.Type != "" || got.Detail == "") {
			t.Errorf("%s: %+v, want problem %s", c.path, got, c.problem)
		}
	}
}

// TestCheckImageTimeout: a detection that hangs (the path was swapped for
// a pipe after it was looked at) gives a verdict in time.
func TestCheckImageTimeout(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	began := time.Now()
	got := checkImage(t.TempDir(), 200*time.Millisecond, func(string) (string, error) { <-block; return "sif", nil })
	if got.Problem != jobspec.ImageTimeout || time.Since(began) > 2*time.Second {
		t.Fatalf("%+v after %s", got, time.Since(began))
	}
}

func TestRunCheckImagePrintsJSON(t *testing.T) {
	var out bytes.Buffer
	if code := RunCheckImage(&out, t.TempDir()); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var v jobspec.ImageCheck
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || v.Type != "sandbox" {
		t.Fatalf("%q: %+v %v", out.String(), v, err)
	}
}
