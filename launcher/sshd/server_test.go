package sshd

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// testServer is a server on a Unix socket, and the key it accepts.
type testServer struct {
	srv      *Server
	sock     string
	dir      string
	hostKey  ssh.PublicKey
	userKey  ssh.Signer
	activity atomic.Int64
	stop     context.CancelFunc
	served   chan error
}

func TestMain(m *testing.M) {
	euid = func() int { return 1000 } // the tests may run as root
	os.Exit(m.Run())
}

func TestRefusesRoot(t *testing.T) {
	defer func(f func() int) { euid = f }(euid)
	euid = func() int { return 0 }
	if _, err := New(Config{HostKey: newSigner(t), AuthorizedKey: newSigner(t).PublicKey()}); err == nil {
		t.Fatal("New as root: no error")
	}
}

func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startServer serves a server whose commands run directly, in a fresh
// working folder, with /bin/sh as the login shell.
func startServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{dir: t.TempDir(), userKey: newSigner(t), served: make(chan error, 1)}
	host := newSigner(t)
	ts.hostKey = host.PublicKey()
	srv, err := New(Config{
		HostKey:       host,
		AuthorizedKey: ts.userKey.PublicKey(),
		Dir:           ts.dir,
		Env:           []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + ts.dir},
		Command: func(ctx context.Context, name string, args []string) *exec.Cmd {
			return exec.CommandContext(ctx, name, args...)
		},
		Shell:    "/bin/sh",
		Activity: func() { ts.activity.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.srv = srv
	ts.sock = filepath.Join(t.TempDir(), "sshd.sock")
	l, err := net.Listen("unix", ts.sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts.stop = cancel
	go func() { ts.served <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ts.served:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after its context ended")
		}
	})
	return ts
}

// dial connects with auth, checking the host key.
func (ts *testServer) dial(auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("unix", ts.sock, &ssh.ClientConfig{
		User: "someone", Auth: auth, HostKeyCallback: ssh.FixedHostKey(ts.hostKey), Timeout: 5 * time.Second,
	})
}

// client connects with the authorized key.
func (ts *testServer) client(t *testing.T) *ssh.Client {
	t.Helper()
	c, err := ts.dial(ssh.PublicKeys(ts.userKey))
	if err != nil {
		t.Fatalf("dial with the authorized key: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestAuthorizedKeyAccepted(t *testing.T) {
	ts := startServer(t)
	c := ts.client(t)
	out, err := mustSession(t, c).Output("echo ok")
	if err != nil || string(out) != "ok\n" {
		t.Fatalf("got %q, %v", out, err)
	}
}

func TestOtherAuthRefused(t *testing.T) {
	ts := startServer(t)
	for name, auth := range map[string]ssh.AuthMethod{
		"other key": ssh.PublicKeys(newSigner(t)),
		"password":  ssh.Password("secret"),
		"keyboard-interactive": ssh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return nil, nil
		}),
	} {
		if c, err := ts.dial(auth); err == nil {
			c.Close()
			t.Errorf("%s: accepted", name)
		}
	}
	if c, err := ts.dial(); err == nil { // "none"
		c.Close()
		t.Error("none: accepted")
	}
}

func TestRemoteForwardRefused(t *testing.T) {
	c := startServer(t).client(t)
	if l, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
		t.Fatal("tcpip-forward accepted")
	}
}

func TestServeEndsSessionsWithItsContext(t *testing.T) {
	ts := startServer(t)
	c := ts.client(t)
	s := mustSession(t, c)
	if err := s.Start("sleep 60"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return ts.srv.Active() == 1 })
	ts.stop()
	select {
	case err := <-ts.served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	ts.served <- nil // for the cleanup
	if err := s.Wait(); err == nil {
		t.Fatal("the session ended cleanly after the server stopped")
	}
	if n := ts.srv.Active(); n != 0 {
		t.Fatalf("Active() = %d after Serve returned", n)
	}
}

func TestServeReturnsListenerError(t *testing.T) {
	srv, err := New(Config{HostKey: newSigner(t), AuthorizedKey: newSigner(t).PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := srv.Serve(context.Background(), l); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve on a closed listener: %v", err)
	}
}

func mustSession(t *testing.T, c *ssh.Client) *ssh.Session {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5 s")
}
