package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteShellKeyModes: the folders are made (or set) 0700, the key
// 0600 whatever the umask, and a second write replaces the key.
func TestWriteShellKeyModes(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache")
	if err := os.MkdirAll(filepath.Join(cache, "det"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"first", "second"} {
		path, err := writeShellFile(cache, "sh-1", "key", []byte(key))
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(cache, "det", "shell", "sh-1", "key"); path != want {
			t.Errorf("path %s, want %s", path, want)
		}
		if data, err := os.ReadFile(path); err != nil || string(data) != key {
			t.Errorf("key %q %v, want %q", data, err, key)
		}
		assertMode(t, path, 0o600)
	}
	for _, d := range []string{"det", "det/shell", "det/shell/sh-1"} {
		assertMode(t, filepath.Join(cache, d), os.ModeDir|0o700)
	}
	for _, id := range []string{"", ".", "..", "../x", "a/b"} {
		if _, err := writeShellFile(cache, id, "key", []byte("k")); err == nil {
			t.Errorf("id %q taken", id)
		}
	}
}

// TestWriteShellKeyLinks: a link in the key's place is removed, not
// written through; a link in place of one of its folders is refused.
func TestWriteShellKeyLinks(t *testing.T) {
	cache := t.TempDir()
	dir := filepath.Join(cache, "det", "shell", "sh-1")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "key")); err != nil {
		t.Fatal(err)
	}
	path, err := writeShellFile(cache, "sh-1", "key", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "mine" {
		t.Errorf("the link's target was written: %q", data)
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("key %v %v, want a regular file", fi, err)
	}

	elsewhere := t.TempDir()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := writeShellFile(cache, "sh-1", "key", []byte("secret")); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("a linked folder: %v", err)
	}
	if _, err := writeShellFile(cache, "sh-2", "key", []byte("secret")); err != nil {
		t.Errorf("another shell beside the link: %v", err)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("written through the link: %v", entries)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode() != want {
		t.Errorf("%s: mode %v %v, want %v", path, fi.Mode(), err, want)
	}
}
