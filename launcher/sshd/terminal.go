package sshd

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// openTerminal opens a pseudo-terminal of the given size. Its master side
// is made non-blocking, so that closing it ends a read in progress even
// while a background process still holds the terminal.
func openTerminal(size *unix.Winsize) (master, tty *os.File, err error) {
	m, tty, err := pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("open a terminal: %w", err)
	}
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	m.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
		if err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		tty.Close()
		return nil, nil, fmt.Errorf("set up a terminal: %w", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := setTerminalSize(master, size); err != nil {
		master.Close()
		tty.Close()
		return nil, nil, err
	}
	return master, tty, nil
}

// setTerminalSize sets the size of the terminal whose master is m; it is
// safe while another goroutine reads or closes m.
func setTerminalSize(m *os.File, size *unix.Winsize) error {
	rc, err := m.SyscallConn()
	if err != nil {
		return fmt.Errorf("set the terminal's size: %w", err)
	}
	var ioErr error
	if err := rc.Control(func(fd uintptr) {
		ioErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, size)
	}); err != nil {
		return fmt.Errorf("set the terminal's size: %w", err)
	}
	if ioErr != nil {
		return fmt.Errorf("set the terminal's size: %w", ioErr)
	}
	return nil
}
