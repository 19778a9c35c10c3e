package cluster

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestFlockHolders(t *testing.T) {
	locks := "1: POSIX  ADVISORY  WRITE 16065 fe:00:5310380 0 EOF\n" +
		"2: FLOCK  ADVISORY  WRITE 11915 fe:00:9977861 0 EOF\n" +
		"3: FLOCK  ADVISORY  WRITE 222 fe:00:42 0 EOF\n"
	got := flockHolders(locks, 9977861)
	if len(got) != 1 || got[0] != 11915 {
		t.Fatalf("got %v", got)
	}
}

// A run under `flock FILE cmd` uses that hold instead of waiting for it.
func TestLockUnderFlock(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("no flock(1) here")
	}
	if os.Getenv("LOCK_TEST_CHILD") != "" {
		unlock, err := Lock(context.Background(), os.Getenv("LOCK_TEST_FILE"), time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		unlock()
		return
	}
	file := filepath.Join(t.TempDir(), "lock")
	cmd := exec.Command("flock", "-o", file, os.Args[0], "-test.run=^TestLockUnderFlock$")
	cmd.Env = append(os.Environ(), "LOCK_TEST_CHILD=1", "LOCK_TEST_FILE="+file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("under flock: %v\n%s", err, out)
	}
	// And held by someone who is not an ancestor, it is waited for.
	holder := exec.Command("flock", file, "sleep", "1")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Wait()
	time.Sleep(200 * time.Millisecond)
	if _, err := Lock(context.Background(), file, 300*time.Millisecond, nil); err == nil {
		t.Fatal("a lock held by another process was taken")
	}
}
