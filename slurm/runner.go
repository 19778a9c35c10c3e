// Package slurm talks to Slurm through its command-line tools (sbatch,
// squeue, scancel, sinfo), parses their output and renders batch scripts.
package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Cmd is one command to run. User, when set, runs it as that POSIX user
// through runuser (the caller must be root).
type Cmd struct {
	Name  string
	Args  []string
	Env   []string
	User  string
	Stdin []byte
}

func (c Cmd) String() string { return strings.Join(append([]string{c.Name}, c.Args...), " ") }

// Runner runs a command and returns its standard output. On failure the
// error carries the command's standard error. No shell is involved.
type Runner interface {
	Run(ctx context.Context, c Cmd) ([]byte, error)
}

// ExecRunner runs commands with os/exec.
type ExecRunner struct{}

var _ Runner = ExecRunner{}

// CommandError is a command that ran and failed.
type CommandError struct {
	Cmd    string
	Stderr string
	Err    error
}

// Error is what the command said, on one line, named once: Slurm's tools
// start their lines with their own name ("sbatch: error: ..."), which is
// not said again; other text gets the command's name in front. Without
// any text it is the command's name and how it ended.
func (e *CommandError) Error() string {
	name := filepath.Base(e.Cmd)
	msg := e.Said()
	if msg == "" {
		return name + ": " + e.Err.Error()
	}
	if strings.HasPrefix(msg, name+":") {
		return msg
	}
	return name + ": " + msg
}

// Said returns the command's own account of the failure: the lines of
// its standard error that say "error:" (Slurm's tools print warnings
// around them), or every line when none does, joined by "; ".
func (e *CommandError) Said() string {
	var all, errs []string
	for _, l := range strings.Split(e.Stderr, "\n") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		all = append(all, l)
		if strings.Contains(l, "error:") {
			errs = append(errs, l)
		}
	}
	if len(errs) > 0 {
		all = errs
	}
	return strings.Join(all, "; ")
}

func (e *CommandError) Unwrap() error { return e.Err }

// Run implements Runner.
func (ExecRunner) Run(ctx context.Context, c Cmd) ([]byte, error) {
	name, args := c.Name, c.Args
	if c.User != "" {
		name, args = "runuser", append([]string{"-u", c.User, "--", c.Name}, c.Args...)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = c.Env
	// On time-out the whole process group goes, runuser's child included,
	// and Run returns even if something still holds the output pipes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return stdout.Bytes(), &CommandError{Cmd: c.Name, Stderr: stderr.String(), Err: err}
	}
	return stdout.Bytes(), nil
}

// StubRunner answers commands from a list of stubs, in order, for unit
// tests. Verify reports stubs that were never used.
type StubRunner struct {
	Stubs []Stub
	Calls []Cmd
}

// Stub matches a command by its name and argument prefix.
type Stub struct {
	Name   string
	Prefix []string
	Out    string
	Err    error
	used   bool
}

// Run implements Runner.
func (s *StubRunner) Run(_ context.Context, c Cmd) ([]byte, error) {
	s.Calls = append(s.Calls, c)
	for i := range s.Stubs {
		st := &s.Stubs[i]
		if st.used || st.Name != c.Name || len(c.Args) < len(st.Prefix) {
			continue
		}
		match := true
		for j, p := range st.Prefix {
			if c.Args[j] != p {
				match = false
				break
			}
		}
		if match {
			st.used = true
			return []byte(st.Out), st.Err
		}
	}
	return nil, errors.New("no stub for " + c.String())
}

// Unused lists the stubs never called.
func (s *StubRunner) Unused() []string {
	var u []string
	for _, st := range s.Stubs {
		if !st.used {
			u = append(u, st.Name+" "+strings.Join(st.Prefix, " "))
		}
	}
	return u
}
