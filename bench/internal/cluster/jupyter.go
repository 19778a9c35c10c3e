package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Jupyter is a notebook server of a bridge task found on this host: its
// process, the TCP port the task's launcher holds for it on the node
// (Jupyter itself listens on a private Unix socket behind that port), and
// its token.
type Jupyter struct {
	Pid   int
	Port  int
	Token string
}

// FindJupyter finds the Jupyter server of a bridge task among this host's
// processes (its base URL names the task), reads its token from the config
// file its command line names, and finds the port that its launcher (the
// det-launcher above it) listens on. It needs root.
func FindJupyter(taskID string) (Jupyter, error) {
	want := "base_url=/proxy/" + taskID + "/"
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		args := cmdline(d)
		if !strings.Contains(strings.Join(args, " "), want) || !isJupyter(args) {
			continue
		}
		j := Jupyter{}
		j.Pid, _ = strconv.Atoi(filepath.Base(d))
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, "--config="); ok {
				tok, err := configToken(v)
				if err != nil {
					return j, err
				}
				j.Token = tok
			}
		}
		launcher := ancestor(j.Pid, func(args []string) bool {
			return len(args) > 1 && strings.Contains(filepath.Base(args[0]), "det-launcher") && args[1] == "run"
		})
		if launcher == 0 {
			return j, fmt.Errorf("no det-launcher above Jupyter (pid %d)", j.Pid)
		}
		port, err := listenPort(launcher)
		if err != nil {
			return j, fmt.Errorf("the port of det-launcher (pid %d): %w", launcher, err)
		}
		j.Port = port
		if j.Token == "" {
			return j, fmt.Errorf("jupyter (pid %d) has no --config= file with its token", j.Pid)
		}
		return j, nil
	}
	return Jupyter{}, fmt.Errorf("no Jupyter process with %s on this host", want)
}

func cmdline(procDir string) []string {
	raw, err := os.ReadFile(filepath.Join(procDir, "cmdline"))
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
}

// configToken reads the token from the launcher's Jupyter config file.
func configToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read Jupyter's config file: %w", err)
	}
	var c struct{ ServerApp struct{ Token string } }
	if err := json.Unmarshal(data, &c); err != nil {
		return "", fmt.Errorf("read Jupyter's config file %s: %w", path, err)
	}
	return c.ServerApp.Token, nil
}

// ancestor returns the nearest process above pid whose command line
// matches, or 0.
func ancestor(pid int, match func([]string) bool) int {
	for i := 0; i < 32 && pid > 1; i++ {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return 0
		}
		_, rest, _ := bytes.Cut(status, []byte("\nPPid:"))
		line, _, _ := bytes.Cut(rest, []byte("\n"))
		pid, _ = strconv.Atoi(strings.TrimSpace(string(line)))
		if match(cmdline(fmt.Sprintf("/proc/%d", pid))) {
			return pid
		}
	}
	return 0
}

// listenPort returns the TCP port a process listens on, from its socket
// descriptors and the kernel's table of TCP sockets.
func listenPort(pid int) (int, error) {
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	inodes := map[string]bool{}
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	for _, table := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] { // 0A: LISTEN
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			port, err := strconv.ParseUint(hexPort, 16, 16)
			if err == nil {
				return int(port), nil
			}
		}
	}
	return 0, fmt.Errorf("no listening TCP socket")
}

func isJupyter(args []string) bool {
	for _, a := range args[:min(len(args), 3)] {
		if strings.Contains(filepath.Base(a), "jupyter") {
			return true
		}
	}
	return false
}
