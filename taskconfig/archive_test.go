package taskconfig

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tarOf(t *testing.T, entries ...tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, h := range entries {
		h := h
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = "x"
			h.Size = 1
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func TestExtractRefuses(t *testing.T) {
	cases := []struct {
		name    string
		entries []tar.Header
		want    string
	}{
		{"dotdot", []tar.Header{{Name: "../escape", Typeflag: tar.TypeReg}}, "leaves the working directory"},
		{"nested dotdot", []tar.Header{{Name: "a/../../escape", Typeflag: tar.TypeReg}}, "leaves the working directory"},
		{"absolute", []tar.Header{{Name: "/etc/passwd", Typeflag: tar.TypeReg}}, "leaves the working directory"},
		{"link out", []tar.Header{{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "../../etc"}}, "leaves the working directory"},
		{"absolute link", []tar.Header{{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc"}}, "leaves the working directory"},
		{"through a link", []tar.Header{{Name: "d/l", Typeflag: tar.TypeSymlink, Linkname: ".."}, {Name: "d/l/l2", Typeflag: tar.TypeSymlink, Linkname: ".."}}, "lies under the link"},
		{"device", []tar.Header{{Name: "dev", Typeflag: tar.TypeChar}}, "device"},
		{"hard link", []tar.Header{{Name: "h", Typeflag: tar.TypeLink, Linkname: "/etc/shadow"}}, "hard link"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dest := t.TempDir()
			err := ExtractContext(tarOf(t, c.entries...), dest)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if err := ExtractContext(tarOf(t, c.entries...), ""); err == nil {
				t.Fatal("check-only mode accepted it")
			}
		})
	}
}

func TestPackAndExtract(t *testing.T) {
	src := t.TempDir()
	for name, body := range map[string]string{
		"startup-hook.sh": "echo hi\n", "data/a.txt": "a", "data/skip.bin": "b", "logs/x.log": "c", ".detignore": "*.bin\nlogs/\n",
	} {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	os.Symlink("data/a.txt", filepath.Join(src, "link"))
	extra := filepath.Join(t.TempDir(), "extra.txt")
	os.WriteFile(extra, []byte("e"), 0o644)
	data, err := PackContext(src, []string{extra})
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	if err := ExtractContext(data, dest); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"startup-hook.sh", "data/a.txt", "extra.txt", "link"} {
		if _, err := os.Lstat(filepath.Join(dest, want)); err != nil {
			t.Errorf("%s missing: %v", want, err)
		}
	}
	for _, gone := range []string{"data/skip.bin", "logs/x.log"} {
		if _, err := os.Lstat(filepath.Join(dest, gone)); err == nil {
			t.Errorf("%s should have been ignored", gone)
		}
	}
}

func TestPackTooLargeNamesFiles(t *testing.T) {
	src := t.TempDir()
	big := make([]byte, MaxContextBytes+1<<20)
	rand.New(rand.NewSource(1)).Read(big) // random bytes: gzip cannot shrink them
	os.WriteFile(filepath.Join(src, "weights.bin"), big, 0o644)
	_, err := PackContext(src, nil)
	if err == nil || !strings.Contains(err.Error(), "weights.bin") {
		t.Fatalf("got %v", err)
	}
}
