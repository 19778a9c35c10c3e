package sshd

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestExecExitStatusAndStreams(t *testing.T) {
	c := startServer(t).client(t)
	s := mustSession(t, c)
	var out, errOut bytes.Buffer
	s.Stdout, s.Stderr = &out, &errOut
	err := s.Run("echo out; echo err >&2; exit 3")
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 3 {
		t.Fatalf("Run: %v, want exit status 3", err)
	}
	if out.String() != "out\n" || errOut.String() != "err\n" {
		t.Fatalf("stdout %q, stderr %q", out.String(), errOut.String())
	}
}

func TestExecRunsInDirWithBaseEnv(t *testing.T) {
	ts := startServer(t)
	out, err := mustSession(t, ts.client(t)).Output(`pwd; echo "$HOME"`)
	if err != nil {
		t.Fatal(err)
	}
	if want := ts.dir + "\n" + ts.dir + "\n"; string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

func TestExecStdinEOF(t *testing.T) {
	c := startServer(t).client(t)
	s := mustSession(t, c)
	s.Stdin = strings.NewReader("line one\nline two\n")
	out, err := s.Output("wc -l")
	if err != nil || strings.TrimSpace(string(out)) != "2" {
		t.Fatalf("got %q, %v", out, err)
	}
}

func TestExecExitSignal(t *testing.T) {
	c := startServer(t).client(t)
	err := mustSession(t, c).Run("kill -TERM $$")
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.Signal() != "TERM" {
		t.Fatalf("Run: %v, want killed by TERM", err)
	}
}

func TestSignalRequest(t *testing.T) {
	c := startServer(t).client(t)
	s := mustSession(t, c)
	out, _ := s.StdoutPipe()
	if err := s.Start("echo started; exec sleep 60"); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "started\n" {
		t.Fatalf("got %q", line)
	}
	if err := s.Signal(ssh.SIGINT); err != nil {
		t.Fatal(err)
	}
	var ee *ssh.ExitError
	if err := s.Wait(); !errors.As(err, &ee) || ee.Signal() != "INT" {
		t.Fatalf("Wait: %v, want killed by INT", err)
	}
}

func TestShellWithPty(t *testing.T) {
	c := startServer(t).client(t)
	s := mustSession(t, c)
	if err := s.RequestPty("xterm-256color", 40, 100, ssh.TerminalModes{ssh.ECHO: 1}); err != nil {
		t.Fatal(err)
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, out: out, in: in}
	term.run(`echo "tty=$(tty) term=$TERM sum=$((1+2))"`, "tty=/dev/pts/")
	term.expect("term=xterm-256color sum=3")
	term.run("stty size", "40 100")
	if err := s.WindowChange(50, 132); err != nil {
		t.Fatal(err)
	}
	term.run("stty size", "50 132")
	term.send("exit 7\n")
	var ee *ssh.ExitError
	if err := s.Wait(); !errors.As(err, &ee) || ee.ExitStatus() != 7 {
		t.Fatalf("Wait: %v, want exit status 7", err)
	}
}

func TestShellWithoutPty(t *testing.T) {
	c := startServer(t).client(t)
	s := mustSession(t, c)
	s.Stdin = strings.NewReader("echo piped\nexit 4\n")
	var buf bytes.Buffer
	s.Stdout = &buf
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	var ee *ssh.ExitError
	if err := s.Wait(); !errors.As(err, &ee) || ee.ExitStatus() != 4 || !strings.Contains(buf.String(), "piped\n") {
		t.Fatalf("Wait: %v, output %q", err, buf.String())
	}
}

func TestEnvAllowList(t *testing.T) {
	c := startServer(t).client(t)
	s := mustSession(t, c)
	for name, want := range map[string]bool{
		"LANG": true, "LC_ALL": true, "VSCODE_AGENT_FOLDER": true,
		"LD_PRELOAD": false, "PATH": false, "BASH_ENV": false, "ENV": false, "PYTHONPATH": false,
	} {
		if err := s.Setenv(name, "x"); (err == nil) != want {
			t.Errorf("Setenv(%s): %v, want accepted %v", name, err, want)
		}
	}
	out, err := s.Output(`echo "$LANG $LC_ALL $VSCODE_AGENT_FOLDER ${LD_PRELOAD-unset} ${BASH_ENV-unset} $PATH"`)
	if err != nil {
		t.Fatal(err)
	}
	if want := "x x x unset unset /usr/local/bin:/usr/bin:/bin\n"; string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

func TestActiveCountsSessions(t *testing.T) {
	ts := startServer(t)
	c := ts.client(t)
	if n := ts.srv.Active(); n != 0 {
		t.Fatalf("Active() = %d before any session", n)
	}
	waitFor(t, func() bool { return ts.srv.Connections() == 1 })
	before := ts.activity.Load()
	a, b := mustSession(t, c), mustSession(t, c)
	ain, _ := a.StdinPipe()
	if err := a.Start("cat"); err != nil {
		t.Fatal(err)
	}
	if err := b.Start("sleep 60"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return ts.srv.Active() == 2 })
	ain.Close() // cat ends with its input
	if err := a.Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return ts.srv.Active() == 1 })
	b.Close()
	waitFor(t, func() bool { return ts.srv.Active() == 0 })
	c.Close()
	waitFor(t, func() bool { return ts.srv.Connections() == 0 })
	if ts.activity.Load() <= before {
		t.Fatal("no activity reported")
	}
}

// terminal drives a shell on a pty.
type terminal struct {
	t   *testing.T
	out io.Reader
	in  io.Writer
	buf []byte
}

func (tm *terminal) send(s string) {
	if _, err := io.WriteString(tm.in, s); err != nil {
		tm.t.Fatal(err)
	}
}

// run types cmd and waits for want in the output after the echoed line.
func (tm *terminal) run(cmd, want string) {
	tm.send(cmd + "\n")
	tm.expect(cmd) // the echo
	tm.expect(want)
}

// expect reads the terminal until it has shown want, within 5 s.
func (tm *terminal) expect(want string) {
	tm.t.Helper()
	got := make(chan error, 1)
	go func() {
		b := make([]byte, 4096)
		for !bytes.Contains(tm.buf, []byte(want)) {
			n, err := tm.out.Read(b)
			tm.buf = append(tm.buf, b[:n]...)
			if err != nil {
				got <- err
				return
			}
		}
		got <- nil
	}()
	select {
	case err := <-got:
		if err != nil {
			tm.t.Fatalf("waiting for %q: %v; terminal showed %q", want, err, tm.buf)
		}
	case <-time.After(5 * time.Second):
		tm.t.Fatalf("%q not shown within 5 s", want)
	}
	i := bytes.Index(tm.buf, []byte(want))
	tm.buf = tm.buf[i+len(want):]
}

func TestBackgroundProcessDoesNotHoldSession(t *testing.T) {
	c := startServer(t).client(t)
	for _, withPty := range []bool{false, true} {
		s := mustSession(t, c)
		if withPty {
			if err := s.RequestPty("xterm", 24, 80, nil); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		out, err := s.Output("sleep 30 & echo bye; exit 5")
		var ee *ssh.ExitError
		if !errors.As(err, &ee) || ee.ExitStatus() != 5 || !strings.Contains(string(out), "bye") {
			t.Fatalf("pty %v: %q, %v", withPty, out, err)
		}
		if d := time.Since(start); d > drainWait+2*time.Second {
			t.Fatalf("pty %v: the session took %v to end", withPty, d)
		}
	}
}
