package taskconfig

import (
	"encoding/base64"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
)

func regular(p, body string) api.File {
	return api.File{Path: p, Type: api.FileTypeRegular, Content: base64.StdEncoding.EncodeToString([]byte(body)), Mode: 0o100644}
}

func folder(p string) api.File { return api.File{Path: p, Type: api.FileTypeDir, Mode: 0o040755} }

// TestContextFilesRoundTrip: the files read from -c and --include, once
// archived and unpacked, are the context: .detignore honoured, links to
// files sent as files, links to folders left out and named.
func TestContextFilesRoundTrip(t *testing.T) {
	src := t.TempDir()
	for name, body := range map[string]string{
		"startup-hook.sh": "echo hi\n", "data/a.txt": "a", "data/skip.bin": "b", "logs/x.log": "c", ".detignore": "*.bin\nlogs/\n",
	} {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	os.Chmod(filepath.Join(src, "startup-hook.sh"), 0o755)
	os.Symlink("data/a.txt", filepath.Join(src, "link"))
	os.Symlink("data", filepath.Join(src, "dirlink"))
	os.Symlink("missing", filepath.Join(src, "broken"))
	extra := filepath.Join(t.TempDir(), "extra.txt")
	os.WriteFile(extra, []byte("e"), 0o644)
	incDir := filepath.Join(t.TempDir(), "lib")
	os.MkdirAll(filepath.Join(incDir, "pkg"), 0o755)
	os.WriteFile(filepath.Join(incDir, "pkg", "m.py"), []byte("m"), 0o644)
	files, skipped, err := ContextFiles(src, []string{extra, incDir})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(skipped)
	if strings.Join(skipped, ",") != "broken,dirlink" {
		t.Errorf("skipped %v, want broken and dirlink", skipped)
	}
	byPath := map[string]api.File{}
	for _, f := range files {
		byPath[f.Path] = f
	}
	if f := byPath["startup-hook.sh"]; f.Type != api.FileTypeRegular || f.Mode != 0o100755 || f.Mtime == 0 {
		t.Errorf("startup-hook.sh: %+v", f)
	}
	if f := byPath["data"]; f.Type != api.FileTypeDir || f.Mode != 0o040755 || f.Content != "" {
		t.Errorf("data: %+v", f)
	}
	if f := byPath["lib"]; f.Type != api.FileTypeDir {
		t.Errorf("the included folder has no entry of its own: %+v", f)
	}
	data, err := ArchiveFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	if err := ExtractContext(data, dest); err != nil {
		t.Fatal(err)
	}
	for want, body := range map[string]string{"startup-hook.sh": "echo hi\n", "data/a.txt": "a", "extra.txt": "e", "link": "a", "lib/pkg/m.py": "m"} {
		if got, err := os.ReadFile(filepath.Join(dest, want)); err != nil || string(got) != body {
			t.Errorf("%s: %q %v, want %q", want, got, err, body)
		}
	}
	if st, err := os.Lstat(filepath.Join(dest, "link")); err != nil || !st.Mode().IsRegular() {
		t.Errorf("link: %v %v, want a regular file", st, err)
	}
	if st, err := os.Stat(filepath.Join(dest, "startup-hook.sh")); err != nil || st.Mode().Perm()&0o100 == 0 {
		t.Errorf("the hook lost its execute bit: %v %v", st, err)
	}
	for _, gone := range []string{"data/skip.bin", "logs/x.log", "dirlink", "broken"} {
		if _, err := os.Lstat(filepath.Join(dest, gone)); err == nil {
			t.Errorf("%s should have been left out", gone)
		}
	}
}

func TestContextFilesRefusals(t *testing.T) {
	src := t.TempDir()
	big := make([]byte, 3<<20)
	rand.New(rand.NewSource(1)).Read(big)
	os.WriteFile(filepath.Join(src, "weights.bin"), big, 0o644)
	if _, _, err := contextFiles(src, nil, 2<<20); err == nil || !strings.Contains(err.Error(), "weights.bin") || !strings.Contains(err.Error(), "more than the 2 MiB allowed") {
		t.Errorf("too large: %v", err)
	}
	if _, _, err := ContextFiles(filepath.Join(src, "weights.bin"), nil); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("a file as --context: %v", err)
	}
	if _, _, err := ContextFiles(src, []string{filepath.Join(src, "weights.bin")}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("an include that clashes with the context: %v", err)
	}
	if _, _, err := ContextFiles("", []string{filepath.Join(src, "missing")}); err == nil || !strings.Contains(err.Error(), "--include") {
		t.Errorf("a missing include: %v", err)
	}
}

// TestArchiveFilesRefuses: every refusal names the entry's path, and
// never echoes a long one whole.
func TestArchiveFilesRefuses(t *testing.T) {
	long := strings.Repeat("a", 300)
	nul := regular("a\x00b", "x")
	link := regular("l", "")
	link.Type = '2'
	fifo := regular("p", "")
	fifo.Type = '6'
	dirWithContent := folder("d")
	dirWithContent.Content = "eA=="
	badBase64 := regular("b64", "")
	badBase64.Content = "not base64!"
	cases := []struct {
		name  string
		files []api.File
		want  string
	}{
		{"dotdot", []api.File{regular("../x", "x")}, `"../x": leaves the working directory`},
		{"nested dotdot", []api.File{regular("a/../../x", "x")}, `"a/../../x": leaves the working directory`},
		{"inner dotdot", []api.File{regular("a/../b", "x")}, `"a/../b": leaves the working directory`},
		{"absolute", []api.File{regular("/etc/passwd", "x")}, `"/etc/passwd": is absolute`},
		{"absolute folder", []api.File{folder("/tmp/")}, `"/tmp/": is absolute`},
		{"empty", []api.File{regular("", "x")}, `"": has no path`},
		{"dot", []api.File{folder(".")}, `".": is the working directory itself`},
		{"unclean", []api.File{regular("a//b", "x")}, `"a//b": is not a clean path`},
		{"dot part", []api.File{regular("./a", "x")}, `"./a": is not a clean path`},
		{"file with a slash", []api.File{regular("a/", "x")}, `"a/": is not a clean path`},
		{"nul", []api.File{nul}, `"a\x00b": holds a NUL byte`},
		{"long name", []api.File{regular(long, "x")}, "has a name longer than 255 bytes"},
		{"symlink", []api.File{link}, `"l": is a symbolic link (type 50, '2'); only regular files (type 48, '0') and folders (type 53, '5')`},
		{"fifo", []api.File{fifo}, `"p": is a pipe`},
		{"folder with content", []api.File{dirWithContent}, `"d": is a folder with content`},
		{"bad base64", []api.File{badBase64}, `"b64": content is not standard base64`},
		{"twice", []api.File{regular("a", "x"), regular("a", "y")}, `"a": appears twice`},
		{"folder over a file", []api.File{regular("a", "x"), folder("a")}, `"a": appears twice`},
		{"file over a folder", []api.File{folder("a"), regular("a", "x")}, `"a": appears twice`},
		{"under a file", []api.File{regular("a", "x"), regular("a/b", "y")}, `"a/b": lies under the file "a"`},
		{"file over a parent", []api.File{regular("a/b", "y"), regular("a", "x")}, `"a": appears twice`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ArchiveFiles(c.files)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if len(err.Error()) > 400 {
				t.Errorf("the refusal is %d bytes long", len(err.Error()))
			}
		})
	}
	if _, err := ArchiveFiles([]api.File{regular(strings.Repeat("d/", 3000)+"f", "x")}); err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "longer than 4096 bytes") {
		t.Errorf("a long path: %.500v", err)
	}
}

// TestArchiveFilesLimits: the contents may hold MaxContextBytes in all;
// folders may repeat; a folder's trailing slash is taken.
func TestArchiveFilesLimits(t *testing.T) {
	files := []api.File{regular("a", strings.Repeat("x", 600)), regular("b", strings.Repeat("y", 600))}
	if _, err := archiveFiles(files, 1000); err == nil || !strings.Contains(err.Error(), `"b": the files hold more than`) {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := archiveFiles(files, 1200); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	ok := []api.File{folder("d/"), folder("d"), regular("d/f", "x"), folder("d/e")}
	data, err := ArchiveFiles(ok)
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	if err := ExtractContext(data, dest); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dest, "d", "e")); err != nil || !st.IsDir() {
		t.Errorf("d/e: %v %v", st, err)
	}
	if data, err := ArchiveFiles(nil); data != nil || err != nil {
		t.Errorf("no files: %v %v", data, err)
	}
}
