package cluster

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Jupyter is a notebook server found on this host.
type Jupyter struct {
	Pid   int
	Port  int
	Token string
}

// FindJupyter finds the Jupyter server of a bridge task among this host's
// processes (its base URL names the task) and reads its port from its
// command line and its token from its environment. It needs root.
func FindJupyter(taskID string) (Jupyter, error) {
	want := "base_url=/proxy/" + taskID + "/"
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		raw, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Contains(raw, []byte(want)) {
			continue
		}
		args := strings.Split(string(raw), "\x00")
		if !isJupyter(args) {
			continue
		}
		j := Jupyter{}
		j.Pid, _ = strconv.Atoi(filepath.Base(d))
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, "--port="); ok {
				j.Port, _ = strconv.Atoi(v)
			}
		}
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil {
			return j, fmt.Errorf("read the environment of Jupyter (pid %d): %w", j.Pid, err)
		}
		for _, kv := range strings.Split(string(env), "\x00") {
			if v, ok := strings.CutPrefix(kv, "JUPYTER_TOKEN="); ok {
				j.Token = v
			}
		}
		if j.Port == 0 {
			return j, fmt.Errorf("jupyter (pid %d) has no --port= argument", j.Pid)
		}
		return j, nil
	}
	return Jupyter{}, fmt.Errorf("no Jupyter process with %s on this host", want)
}

func isJupyter(args []string) bool {
	for _, a := range args[:min(len(args), 3)] {
		if strings.Contains(filepath.Base(a), "jupyter") {
			return true
		}
	}
	return false
}
