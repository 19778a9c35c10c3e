package e2e

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"
)

// eventually checks cond every 50 ms until it holds, and fails the test
// when it still does not after within: the tests wait for what they need,
// never for a fixed time.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitExited waits until process pid has exited: it is gone, or a zombie
// its parent has not reaped yet (its sockets and files are closed then).
func waitExited(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	eventually(t, within, fmt.Sprintf("process %d to exit", pid), func() bool {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		// The state follows the ")" that ends the command's name.
		i := bytes.LastIndexByte(stat, ')')
		return i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z'
	})
}
