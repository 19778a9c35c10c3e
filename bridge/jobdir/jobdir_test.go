package jobdir

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func nobody() Owner { return Owner{Uid: -1, Gid: -1} }

// jobUID owns the job folders of these tests when they run as root (a
// bridge as root refuses root-owned job files).
const jobUID = 65534

// jobFolder makes <tmp>/user/id as Create would leave it and returns it.
func jobFolder(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "user", "id")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	giveAway(t, dir)
	return dir
}

// giveAway hands path to jobUID when the test runs as root.
func giveAway(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() == 0 {
		if err := os.Lchown(path, jobUID, jobUID); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCreate(t *testing.T) {
	root := t.TempDir()
	err := Create(root, "alice", "t1", nobody(), []File{
		{Name: "task.json", Data: []byte("{}"), Mode: 0o600},
		{Name: "job.sh", Data: []byte("#!/bin/sh\n"), Mode: 0o700},
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"alice": 0o711 | os.ModeDir, "alice/t1": 0o700 | os.ModeDir, "alice/t1/task.json": 0o600, "alice/t1/job.sh": 0o700} {
		st, err := os.Lstat(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", name, st.Mode(), mode)
		}
	}
	// A second task of the same user, and a clash with an existing one.
	if err := Create(root, "alice", "t2", nobody(), nil); err != nil {
		t.Fatal(err)
	}
	if err := Create(root, "alice", "t2", nobody(), nil); err == nil {
		t.Fatal("an existing job folder was reused")
	}
}

// TestCreateRefusesLinkedUserFolder: a user folder that is a link (made
// where the storage root is shared) is never written through.
func TestCreateRefusesLinkedUserFolder(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "bob")); err != nil {
		t.Fatal(err)
	}
	if err := Create(root, "bob", "t1", nobody(), []File{{Name: "task.json", Data: []byte("x"), Mode: 0o600}}); err == nil {
		t.Fatal("created a job folder through a linked user folder")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("wrote outside the storage root: %v", ents)
	}
}

// TestCreateCleansUp: a file that cannot be written leaves no job folder.
func TestCreateCleansUp(t *testing.T) {
	root := t.TempDir()
	err := Create(root, "alice", "t1", nobody(), []File{
		{Name: "task.json", Data: []byte("{}"), Mode: 0o600},
		{Name: "../escape", Data: []byte("x"), Mode: 0o600},
	})
	if err == nil {
		t.Fatal("a name with .. was written")
	}
	if _, err := os.Lstat(filepath.Join(root, "alice", "t1")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("job folder left behind: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "alice", "escape")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file written outside the job folder: %v", err)
	}
}

// TestOpenRefusesWhatAUserCanPlant plays the job's user: each name is
// something a user can put in their own job folder to make a root reader
// leak, hang or blow up.
func TestOpenRefusesWhatAUserCanPlant(t *testing.T) {
	dir := jobFolder(t)
	canary := filepath.Join(t.TempDir(), "canary")
	if err := os.WriteFile(canary, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(canary, filepath.Join(dir, "link")))
	must(os.Link(canary, filepath.Join(dir, "hardlink")))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
	must(os.Mkdir(filepath.Join(dir, "folder"), 0o700))
	must(os.Symlink("/dev/zero", filepath.Join(dir, "zero")))
	for _, name := range []string{"link", "hardlink", "fifo", "folder", "zero"} {
		giveAway(t, filepath.Join(dir, name))
		done := make(chan error, 1)
		go func() {
			f, err := Open(dir, name)
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: opened", name)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Open blocked", name)
		}
	}
	// The job folder, or the user folder, replaced by a link.
	base := t.TempDir()
	must(os.Mkdir(filepath.Join(base, "user"), 0o755))
	must(os.Symlink(filepath.Dir(canary), filepath.Join(base, "user", "job")))
	must(os.Symlink(filepath.Join(filepath.Dir(dir)), filepath.Join(base, "linkeduser")))
	for _, d := range []string{filepath.Join(base, "user", "job"), filepath.Join(base, "linkeduser", "id")} {
		if _, err := ReadFile(d, "canary", 1<<10); err == nil {
			t.Errorf("read through a link at %s", d)
		}
	}
	// A root-owned folder of root-owned files is no job's (as root).
	if os.Geteuid() == 0 {
		rootDir := filepath.Join(t.TempDir(), "user", "id")
		must(os.MkdirAll(rootDir, 0o700))
		must(os.WriteFile(filepath.Join(rootDir, "output.log"), []byte("x"), 0o600))
		if _, err := ReadFile(rootDir, "output.log", 1<<10); err == nil {
			t.Error("read a root-owned file from a root-owned folder")
		}
	}
}

func TestReadFile(t *testing.T) {
	dir := jobFolder(t)
	if err := os.WriteFile(filepath.Join(dir, "exit.json"), []byte(`{"exit_code":0}`), 0o600); err != nil {
		t.Fatal(err)
	}
	giveAway(t, filepath.Join(dir, "exit.json"))
	data, err := ReadFile(dir, "exit.json", 1<<10)
	if err != nil || string(data) != `{"exit_code":0}` {
		t.Fatalf("ReadFile = %q, %v", data, err)
	}
	if _, err := ReadFile(dir, "exit.json", 4); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the bound: %v, want ErrTooLarge", err)
	}
	if _, err := ReadFile(dir, "missing", 4); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v, want ErrNotExist", err)
	}
}

// TestCreateOwners: as root, the files and the job folder go to the job's
// user and a user folder the user owned (older layout) is taken back.
func TestCreateOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files away")
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "alice"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(root, "alice"), 2001, 2001); err != nil {
		t.Fatal(err)
	}
	if err := Create(root, "alice", "t1", Owner{Uid: 2001, Gid: 2001}, []File{{Name: "task.json", Data: []byte("{}"), Mode: 0o600}}); err != nil {
		t.Fatal(err)
	}
	for name, uid := range map[string]uint32{"alice": 0, "alice/t1": 2001, "alice/t1/task.json": 2001} {
		st, err := os.Lstat(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Sys().(*syscall.Stat_t).Uid; got != uid {
			t.Errorf("%s: owner %d, want %d", name, got, uid)
		}
	}
}
