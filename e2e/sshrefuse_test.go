package e2e

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
)

// determinedLine is the ssh line of Determined's CLI for a shell: its
// ProxyCommand, Determined's own tunnel module, sends no token.
func determinedLine(key, dest string) sshLine {
	opts := []string{"-o", "ProxyCommand=/usr/bin/python3 -m determined.cli.tunnel " + master + " %h",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes", "-i", key}
	return sshLine{printed: append(append([]string{"ssh"}, opts...), dest), opts: opts, dest: dest, key: key}
}

// bridgeRefused is how our tunnel says that the bridge refused it: the
// websocket's 403, or the 404 that answers a look-up of another user's
// shell before it.
var bridgeRefused = regexp.MustCompile(`(?i)\b40[34]\b|forbidden|not found`)

// TestSSHShellRefusals: only alice, with her shell's key, gets into her
// shell over SSH. Bob, with a copy of her key, is refused by the bridge
// through our tunnel (with his own token) and through Determined's (no
// token, from his socket); alice with another key is refused by the SSH
// server, and her ssh refuses a server with another host key than the
// one pinned; a websocket with an Origin (a browser's), and one without a
// token from root, are refused. Alice still gets in afterwards.
func TestSSHShellRefusals(t *testing.T) {
	t.Parallel()
	cluster(t)
	a := startAliceShell(t)
	u, id, job := a.user, a.sh.ID, a.sh.SlurmJobID
	echo := "echo ok-$SLURM_JOB_ID"
	if out := a.ssh(t, echo); !strings.Contains(out, "ok-"+job) {
		t.Fatalf("alice's own ssh printed %q, want ok-%s", out, job)
	}
	u.unpackPeer()
	if out := u.ok("", "ssh", determinedLine(a.line.key, a.line.dest).ssh(echo)[1:]...); !strings.Contains(out, "ok-"+job) {
		t.Fatalf("alice through Determined's ProxyCommand printed %q, want ok-%s", out, job)
	}

	// (a) Bob, logged in with our CLI, with alice's key and our tunnel.
	bob := asUser(t, "bob")
	b := newPosixUser(t, "bob")
	b.det("bob-password\n", "user", "login", "bob")
	kf, err := openInHome(a.line.key)
	if err != nil {
		t.Fatalf("open alice's key file: %v", err)
	}
	key, err := io.ReadAll(kf)
	kf.Close()
	if err != nil {
		t.Fatalf("read alice's key file: %v", err)
	}
	bobKey := filepath.Join(b.home, "alice-key")
	writeFileAs(t, b, bobKey, key)
	out, errOut, err := b.run("", "ssh", a.line.withKey(bobKey).ssh(echo)[1:]...)
	if err == nil || strings.Contains(out, "ok-") {
		t.Errorf("bob with alice's key through our tunnel got in: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	} else if !bridgeRefused.MatchString(errOut) {
		t.Errorf("bob's ssh through our tunnel failed, but its stderr does not say the bridge refused it:\n%s", errOut)
	}
	if status, banner, out := probeSSHSocket(t, nil, id, "Authorization: Bearer "+bob.Token); status != http.StatusForbidden || banner {
		t.Errorf("the websocket of alice's shell with bob's token: want 403\n%s", out)
	}

	// (b) Bob with alice's key through Determined's tunnel: no token, and
	// the socket is bob's.
	b.unpackPeer()
	out, errOut, err = b.run("", "ssh", determinedLine(bobKey, a.line.dest).ssh(echo)[1:]...)
	if err == nil || strings.Contains(out, "ok-") {
		t.Errorf("bob with alice's key through Determined's tunnel got in: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}

	// (c) Alice with a key of her own that is not the shell's.
	wrong := filepath.Join(u.home, "wrong-key")
	u.ok("", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", wrong)
	out, errOut, err = u.run("", "ssh", a.line.withKey(wrong).ssh(echo)[1:]...)
	if err == nil || strings.Contains(out, "ok-") || !strings.Contains(errOut, "Permission denied (publickey)") {
		t.Errorf("alice with another key: %v, want Permission denied (publickey)\nstdout: %s\nstderr: %s", err, out, errOut)
	}

	// (d) Alice's line pins the shell's host key (the bridge made it): a
	// server with another host key is refused by ssh itself.
	if !slices.Contains(a.line.opts, "StrictHostKeyChecking=yes") {
		t.Errorf("the printed line does not pin the shell's host key: %q", a.line.printed)
	}
	other := filepath.Join(u.home, "other-host")
	u.ok("", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other)
	pf, err := openInHome(other + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := io.ReadAll(pf)
	pf.Close()
	otherKnown := filepath.Join(u.home, "other-known-hosts")
	writeFileAs(t, u, otherKnown, []byte(strings.Join(append([]string{id}, strings.Fields(string(pub))[:2]...), " ")+"\n"))
	out, errOut, err = u.run("", "ssh", a.line.withKnownHosts(otherKnown).ssh(echo)[1:]...)
	if err == nil || strings.Contains(out, "ok-") || !strings.Contains(errOut, "Host key verification failed") {
		t.Errorf("alice's line with another host key pinned: %v, want Host key verification failed\nstdout: %s\nstderr: %s", err, out, errOut)
	}

	// (e) The websocket itself: alice's socket without a token reaches the
	// SSH server (its banner comes through); with an Origin, as a browser
	// sends, nobody does, nor does root without a token.
	if status, banner, out := probeSSHSocket(t, u, id); status != http.StatusSwitchingProtocols || !banner {
		t.Fatalf("alice's tokenless websocket did not reach the SSH server, so the refusals below would prove nothing:\n%s", out)
	}
	for _, c := range []struct {
		what    string
		as      *posixUser
		headers []string
	}{
		{"alice's socket, no token, Origin of the bridge's own pages", u, []string{"Origin: " + master}},
		{"alice's socket, no token, Origin of another site", u, []string{"Origin: http://evil.example"}},
		{"alice's WebUI cookie, Origin of the bridge's own pages", nil, []string{"Cookie: det_token=" + a.client.Token, "Origin: " + master}},
		{"root's socket, no token", nil, nil},
	} {
		if status, banner, out := probeSSHSocket(t, c.as, id, c.headers...); status == http.StatusSwitchingProtocols || banner {
			t.Errorf("%s: the bridge opened the websocket of alice's shell, want it refused\n%s", c.what, out)
		}
	}

	if out := a.ssh(t, echo); !strings.Contains(out, "ok-"+job) {
		t.Errorf("alice's ssh after the refusals printed %q, want ok-%s", out, job)
	}
	u.det("", "shell", "kill", id)
	waitState(t, a.client, id, api.StateTerminated, time.Minute)
}
