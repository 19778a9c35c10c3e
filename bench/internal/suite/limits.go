package suite

import (
	"fmt"
	"syscall"
)

// raiseOpenFiles sets this process's soft limit of open files to its hard
// limit, for itself and every process it starts (which inherit it: Go
// raises its own limit at start but gives its children the original one
// unless the program sets the limit itself). The idle websocket figures
// need two descriptors per websocket in a proxy. It returns the limit.
func raiseOpenFiles() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("read the open files limit: %w", err)
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("raise the open files limit to %d: %w", l.Max, err)
	}
	return l.Cur, nil
}
