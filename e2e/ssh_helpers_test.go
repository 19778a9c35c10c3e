package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sshWithin bounds every ssh, scp and CLI command of the SSH tests.
const sshWithin = 3 * time.Minute

// posixUser runs commands as a POSIX user of the cluster (alice, bob)
// from this test (root): its own uid and gids, a fresh HOME of its own
// (so its own ~/.det, ~/.cache and ~/.ssh), no terminal, and a clean
// environment. The sockets its commands open are the user's, as when the
// user runs them on the login node.
type posixUser struct {
	t    *testing.T
	name string
	uid  int
	gid  int
	home string
	cred *syscall.Credential
}

func newPosixUser(t *testing.T, name string) *posixUser {
	t.Helper()
	pu, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("POSIX user %s: %v", name, err)
	}
	uid, _ := strconv.Atoi(pu.Uid)
	gid, _ := strconv.Atoi(pu.Gid)
	var groups []uint32
	if ids, err := pu.GroupIds(); err == nil {
		for _, g := range ids {
			if n, err := strconv.Atoi(g); err == nil {
				groups = append(groups, uint32(n))
			}
		}
	}
	home, err := os.MkdirTemp("/tmp", "det-e2e-ssh-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatal(err)
	}
	return &posixUser{t: t, name: name, uid: uid, gid: gid, home: home,
		cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}}
}

// peerCache is where Determined's CLI, run by this user, unpacks itself.
func (u *posixUser) peerCache() string { return filepath.Join(u.home, ".cache", "determined-0.38.1") }

// env is the user's environment. PYTHONPATH holds Determined's CLI as its
// `det` unpacks it, so that the ProxyCommand `python3 -m
// determined.cli.tunnel` that Determined's CLI prints works on its own.
func (u *posixUser) env() []string {
	return []string{"HOME=" + u.home, "USER=" + u.name, "LOGNAME=" + u.name, "PATH=/usr/bin:/bin", "LANG=C.UTF-8",
		"DET_MASTER=" + master, "DET_PEER_CACHE=" + u.peerCache(),
		"PYTHONPATH=" + u.peerCache() + "/harness:" + u.peerCache() + "/lomond"}
}

// command is name with args run as the user in its HOME, in a session of
// its own whose processes all end when ctx does.
func (u *posixUser) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = u.env()
	cmd.Dir = u.home
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: u.cred}
	// The process group is the session this command leads: ssh and its
	// ProxyCommand end together.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs a command as the user with stdin and returns its stdout and
// stderr apart.
func (u *posixUser) run(stdin, name string, args ...string) (string, string, error) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sshWithin)
	defer cancel()
	cmd := u.command(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (still running after %s)", err, sshWithin)
	}
	return out.String(), errb.String(), err
}

// ok runs a command as the user and fails the test unless it succeeds.
func (u *posixUser) ok(stdin, name string, args ...string) string {
	u.t.Helper()
	out, errOut, err := u.run(stdin, name, args...)
	if err != nil {
		u.t.Fatalf("%s as %s: %v\n%s\n%s", cmdText(name, args), u.name, err, out, errOut)
	}
	return out
}

// det runs our CLI (bin/det) as the user and fails the test unless it
// succeeds.
func (u *posixUser) det(stdin string, args ...string) string {
	u.t.Helper()
	return u.ok(stdin, filepath.Join(repo, "bin", "det"), args...)
}

// unpackPeer has Determined's CLI unpack itself into the user's cache,
// where the user's PYTHONPATH finds its tunnel module.
func (u *posixUser) unpackPeer() {
	u.t.Helper()
	u.ok("", filepath.Join(peerDir(u.t), "det"), "--version")
}

// detCLIAs is Determined's real CLI run as the POSIX user u, with u's HOME.
func detCLIAs(t *testing.T, u *posixUser) *detCLI {
	t.Helper()
	d := newDetCLI(t)
	d.home, d.env, d.cred = u.home, u.env(), u.cred
	return d
}

// writeFileAs writes a new file at path in u's HOME, owned by u and
// readable by u only. The test is root and u can write there: it makes
// the file itself, never through a link.
func writeFileAs(t *testing.T, u *posixUser, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Chown(u.uid, u.gid); err != nil {
		t.Fatal(err)
	}
}

// openInHome opens a file that a user's command wrote in its HOME, never
// through a link.
func openInHome(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}

func cmdText(name string, args []string) string {
	return strings.Join(append([]string{filepath.Base(name)}, args...), " ")
}
