package cluster

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// A lock held by another process is not taken; once it is let go, it is.
func TestLock(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("no flock(1) here")
	}
	file := filepath.Join(t.TempDir(), "lock")
	holder := exec.Command("flock", file, "sleep", "1")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := Lock(context.Background(), file, 0, nil); err == nil {
		t.Fatal("a lock held by another process was taken")
	}
	_ = holder.Wait()
	unlock, err := Lock(context.Background(), file, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if out, err := exec.Command("flock", "-n", file, "true").CombinedOutput(); err != nil {
		t.Fatalf("the lock was not let go: %v %s", err, out)
	}
}
