package taskconfig

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
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
		// Each link reads as inside, but a/a is the top, so a/a/.. is its parent.
		{"link through a link", []tar.Header{{Name: "a", Typeflag: tar.TypeSymlink, Linkname: "."}, {Name: "b", Typeflag: tar.TypeSymlink, Linkname: "a/a/.."}}, `link "b" -> "a/a/.." leaves the working directory`},
		{"link through a later link", []tar.Header{{Name: "b", Typeflag: tar.TypeSymlink, Linkname: "x/.."}, {Name: "x", Typeflag: tar.TypeSymlink, Linkname: "."}}, `link "b" -> "x/.." leaves the working directory`},
		{"deep link chain", []tar.Header{{Name: "d/e", Typeflag: tar.TypeDir}, {Name: "d/e/up", Typeflag: tar.TypeSymlink, Linkname: "../.."}, {Name: "c", Typeflag: tar.TypeSymlink, Linkname: "d/e/up/d/e/up/.."}}, `link "c" -> "d/e/up/d/e/up/.." leaves`},
		{"link loop", []tar.Header{{Name: "p", Typeflag: tar.TypeSymlink, Linkname: "q"}, {Name: "q", Typeflag: tar.TypeSymlink, Linkname: "p"}}, "loop of links"},
		{"link replaces a file", []tar.Header{{Name: "f", Typeflag: tar.TypeReg}, {Name: "f", Typeflag: tar.TypeSymlink, Linkname: "."}}, "appears twice"},
		{"folder over a link", []tar.Header{{Name: "a", Typeflag: tar.TypeSymlink, Linkname: "."}, {Name: "a/", Typeflag: tar.TypeDir}}, "appears twice"},
		{"under a file", []tar.Header{{Name: "f", Typeflag: tar.TypeReg}, {Name: "f/x", Typeflag: tar.TypeReg}}, "lies under the file"},
		{"empty link", []tar.Header{{Name: "l", Typeflag: tar.TypeSymlink, Linkname: ""}}, "no usable target"},
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
			if err := ExtractContext(tarOf(t, c.entries...), ""); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("check-only mode: got %v, want %q", err, c.want)
			}
			// Whatever was unpacked before the refusal stays inside dest
			// and no link that leads outside is left behind.
			filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.Type()&os.ModeSymlink == 0 {
					return err
				}
				real, err := filepath.EvalSymlinks(p)
				if err == nil && real != dest && !strings.HasPrefix(real, dest+"/") {
					t.Errorf("left %s pointing at %s, outside %s", p, real, dest)
				}
				return nil
			})
		})
	}
}

// TestExtractKeepsInnerLinks: links that stay inside, through other links
// too, are unpacked and work.
func TestExtractKeepsInnerLinks(t *testing.T) {
	data := tarOf(t,
		tar.Header{Name: "data/a.txt", Typeflag: tar.TypeReg},
		tar.Header{Name: "here", Typeflag: tar.TypeSymlink, Linkname: "."},
		tar.Header{Name: "d", Typeflag: tar.TypeSymlink, Linkname: "here/data"},
		tar.Header{Name: "sub/up", Typeflag: tar.TypeSymlink, Linkname: "../here/here/data/a.txt"},
		tar.Header{Name: "dangling", Typeflag: tar.TypeSymlink, Linkname: "missing/.."},
	)
	if err := ExtractContext(data, ""); err != nil {
		t.Fatalf("check: %v", err)
	}
	dest := t.TempDir()
	if err := ExtractContext(data, dest); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	for _, p := range []string{"d/a.txt", "sub/up"} {
		if b, err := os.ReadFile(filepath.Join(dest, p)); err != nil || string(b) != "x" {
			t.Errorf("%s: %q %v", p, b, err)
		}
	}
}

// TestExtractWritesOnlyInside: even a link the archive did not make (one
// already in dest, which the checks cannot see) is not written through to
// outside dest.
func TestExtractWritesOnlyInside(t *testing.T) {
	parent := t.TempDir()
	dest := filepath.Join(parent, "work")
	os.Mkdir(dest, 0o755)
	os.Symlink("..", filepath.Join(dest, "out"))
	data := tarOf(t, tar.Header{Name: "out/owned", Typeflag: tar.TypeReg})
	if err := ExtractContext(data, dest); err == nil {
		t.Fatal("unpacked through a link that leaves dest")
	}
	if _, err := os.Lstat(filepath.Join(parent, "owned")); err == nil {
		t.Fatal("a file was written outside dest")
	}
}
