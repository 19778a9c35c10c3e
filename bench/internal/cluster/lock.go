package cluster

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Lock takes the exclusive flock on path (as flock(1) does), waiting up to
// wait, and returns the function that releases it. When a process this
// one runs under already holds it (`flock /tmp/det-cluster.lock make
// bench`), that hold is used.
func Lock(ctx context.Context, path string, wait time.Duration, waiting func()) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if heldByAncestor(f) {
		f.Close()
		return func() {}, nil
	}
	deadline := time.Now().Add(wait)
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !told && waiting != nil {
			waiting()
			told = true
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("the cluster lock %s is still held by someone else after %s", path, wait)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// heldByAncestor reports whether a process above this one holds a flock
// on the open file f (from /proc/locks).
func heldByAncestor(f *os.File) bool {
	st, err := f.Stat()
	if err != nil {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	data, err := os.ReadFile("/proc/locks")
	if err != nil {
		return false
	}
	holders := flockHolders(string(data), sys.Ino)
	for pid := os.Getppid(); pid > 1; pid = parentOf(pid) {
		for _, h := range holders {
			if h == pid {
				return true
			}
		}
	}
	return false
}

// flockHolders returns the pids holding FLOCK locks on inode, from the
// text of /proc/locks ("1: FLOCK  ADVISORY  WRITE 11915 fe:00:9977861 0 EOF").
func flockHolders(locks string, inode uint64) []int {
	var out []int
	for _, line := range strings.Split(locks, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[1] != "FLOCK" {
			continue
		}
		id := f[5]
		if i := strings.LastIndexByte(id, ':'); i >= 0 {
			id = id[i+1:]
		}
		if n, err := strconv.ParseUint(id, 10, 64); err != nil || n != inode {
			continue
		}
		if pid, err := strconv.Atoi(f[4]); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

func parentOf(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "PPid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}
