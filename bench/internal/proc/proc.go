// Package proc starts the processes a benchmark needs (the backend, the
// benchmark bridge, and the peers: nginx and configurable-http-proxy), waits for their ports, reads their memory
// and stops exactly the processes it started.
package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one started process, in a process group of its own.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
	stop sync.Once
}

// Start runs name with args, its output appended to logPath.
func Start(name, logPath string, env []string, argv ...string) (*Proc, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, done: make(chan struct{}), log: lf}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Stop ends the process group this Proc started: SIGTERM, then SIGKILL
// after 3 s. Only the first call signals: a process stopped early is not
// signalled again when the suite ends (its id may be another's by then).
func (p *Proc) Stop() {
	if p == nil {
		return
	}
	p.stop.Do(p.kill)
}

func (p *Proc) kill() {
	pg := -p.cmd.Process.Pid
	_ = syscall.Kill(pg, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(pg, syscall.SIGKILL)
		<-p.done
	}
	p.log.Close()
}

// WaitLine waits until the process's log has a line starting with prefix
// and returns the rest of that line.
func WaitLine(p *Proc, logPath, prefix string, within time.Duration) (string, error) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if v, ok := findLine(logPath, prefix); ok {
			return v, nil
		}
		select {
		case <-p.done:
			return "", fmt.Errorf("%s exited; see %s", p.Name, logPath)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("%s printed no %q within %s; see %s", p.Name, prefix, within, logPath)
}

func findLine(path, prefix string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// WaitPort waits until addr accepts TCP connections.
func WaitPort(ctx context.Context, addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s: %w", addr, within, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// FreePort returns a loopback address with a port free at the time of the
// call.
func FreePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// RSS returns the resident memory of a process and its descendants, in
// bytes (from /proc).
func RSS(pid int) (int64, error) {
	total, err := rssOf(pid)
	if err != nil {
		return 0, err
	}
	for _, c := range children(pid) {
		if n, err := RSS(c); err == nil {
			total += n
		}
	}
	return total, nil
}

func rssOf(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseVmRSS(f)
}

func parseVmRSS(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				n, err := strconv.ParseInt(f[0], 10, 64)
				return n << 10, err
			}
		}
	}
	return 0, errors.New("no VmRSS line")
}

// children lists the child processes of pid: those of each of its
// threads (Go forks from whichever thread runs the exec).
func children(pid int) []int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
