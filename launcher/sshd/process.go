package sshd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"time"
)

const (
	// drainWait bounds how long an exited command's output is still
	// copied: a background process holding it open is cut off.
	drainWait = time.Second
	// killWait is how long a command has after the hang-up that ends its
	// session before it is killed.
	killWait = 2 * time.Second
)

// run starts the user's shell with args, with the session's terminal if
// it asked for one, else with pipes; it returns nil if the shell did not
// start. The command's process group is hung up, then killed, when ctx
// ends first.
func (ss *session) run(ctx context.Context, args []string) <-chan result {
	cfg := &ss.srv.cfg
	cmd := cfg.Command(ctx, cfg.Shell, args)
	if cmd == nil {
		ss.log.Warn("ssh command not built")
		return nil
	}
	if cmd.Env == nil {
		cmd.Env = slices.Clone(cfg.Env)
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
	}
	cmd.Env = append(cmd.Env, ss.env...)
	if ss.term != "" {
		cmd.Env = append(cmd.Env, "TERM="+ss.term)
	}
	if cmd.Dir == "" {
		cmd.Dir = cfg.Dir
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	start := ss.startPipes
	if ss.term != "" {
		start = ss.startPty
	}
	drained, closeOut, err := start(cmd)
	if err != nil {
		ss.log.Warn("ssh command did not start", "err", err)
		return nil
	}
	ss.pgid = cmd.Process.Pid
	ss.log.Info("ssh command started", "pid", ss.pgid, "terminal", ss.term != "", "exec", args[0] == "-c")
	done := make(chan result, 1)
	go func() {
		exited := make(chan struct{})
		go hangUpOnEnd(ctx, ss.pgid, exited)
		err := cmd.Wait()
		close(exited)
		select {
		case <-drained:
		case <-time.After(drainWait):
		}
		closeOut()
		res := exitResult(cmd.ProcessState)
		ss.log.Info("ssh command ended", "pid", ss.pgid, "status", res.code, "signal", res.signal, "err", err)
		done <- res
	}()
	return done
}

// hangUpOnEnd hangs up process group pgid when ctx ends before exited
// closes, and kills it if it is still there killWait later.
func hangUpOnEnd(ctx context.Context, pgid int, exited <-chan struct{}) {
	select {
	case <-exited:
		return
	case <-ctx.Done():
	}
	_ = syscall.Kill(-pgid, syscall.SIGHUP)
	select {
	case <-exited:
	case <-time.After(killWait):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// startPty starts cmd on a new terminal of the session's size, the
// channel joined to it. drained closes once the terminal's output has been
// copied to the end; closeOut ends the copying.
func (ss *session) startPty(cmd *exec.Cmd) (drained <-chan struct{}, closeOut func(), err error) {
	ptmx, tty, err := openTerminal(&ss.size)
	if err != nil {
		return nil, nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0 // the child's stdin
	err = cmd.Start()
	tty.Close()
	if err != nil {
		ptmx.Close()
		return nil, nil, fmt.Errorf("start %s on a terminal: %w", cmd.Path, err)
	}
	ss.ptmx = ptmx
	act := ss.srv.cfg.Activity
	out := make(chan struct{})
	go func() {
		defer close(out)
		copyActive(ss.ch, ptmx, act) // ends with EIO once the terminal is hung up
	}()
	go copyActive(ptmx, ss.ch, act) // ends with the channel or the terminal
	return out, func() { ptmx.Close() }, nil
}

// startPipes starts cmd with a pipe for each standard stream: stdin fed
// from the channel (its EOF closes the pipe), stdout and stderr copied to
// the channel's data and extended data.
func (ss *session) startPipes(cmd *exec.Cmd) (drained <-chan struct{}, closeOut func(), err error) {
	var fds [6]*os.File // stdin r/w, stdout r/w, stderr r/w
	for i := 0; i < len(fds); i += 2 {
		if fds[i], fds[i+1], err = os.Pipe(); err != nil {
			closeAll(fds[:i])
			return nil, nil, fmt.Errorf("make pipes: %w", err)
		}
	}
	inR, inW, outR, outW, errR, errW := fds[0], fds[1], fds[2], fds[3], fds[4], fds[5]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	err = cmd.Start()
	closeAll([]*os.File{inR, outW, errW}) // the child's ends
	if err != nil {
		closeAll([]*os.File{inW, outR, errR})
		return nil, nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	act := ss.srv.cfg.Activity
	go func() {
		copyActive(inW, ss.ch, act)
		inW.Close() // the command reads EOF
	}()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); copyActive(ss.ch, outR, act) }()
	go func() { defer wg.Done(); copyActive(ss.ch.Stderr(), errR, act) }()
	out := make(chan struct{})
	go func() { wg.Wait(); close(out) }()
	return out, func() { closeAll([]*os.File{inW, outR, errR}) }, nil
}

// closeAll closes every file in fs.
func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// exitResult is how a process that has ended ended.
func exitResult(st *os.ProcessState) result {
	if st == nil {
		return result{code: 255}
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		if name := signalName(ws.Signal()); name != "" {
			return result{signal: name}
		}
		return result{code: 128 + int(ws.Signal())}
	}
	return result{code: st.ExitCode()}
}
