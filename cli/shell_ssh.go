package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// sshSetup is what an ssh command line for a shell is made of besides the
// shell: this det, the bridge's address and the folder the key goes in.
type sshSetup struct {
	det      string // this det's absolute path
	master   string // the bridge, as det was told it
	cacheDir string // $XDG_CACHE_HOME, or ~/.cache
}

// sshSetup is the setup of this det run.
func (g *globals) sshSetup() (sshSetup, error) {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.Abs(exe)
	}
	if err != nil {
		return sshSetup{}, fmt.Errorf("find the path of det: %w", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return sshSetup{}, fmt.Errorf("find the cache folder: %w", err)
	}
	return sshSetup{det: exe, master: g.master, cacheDir: cache}, nil
}

// sshCommand is an ssh command line that reaches a shell: its arguments,
// and the file with the shell's key that it uses.
type sshCommand struct {
	Command []string `json:"command"`
	KeyFile string   `json:"keyFile"`
	// KnownHostsFile pins the shell's host key; absent for a shell whose
	// server makes its own (the line then checks no host key).
	KnownHostsFile string `json:"knownHostsFile,omitempty"`
}

// line is the command line as a POSIX shell takes it.
func (c *sshCommand) line() string {
	words := make([]string, len(c.Command))
	for i, w := range c.Command {
		words[i] = shellQuote(w)
	}
	return strings.Join(words, " ")
}

// prepare writes sh's private key to its key file and returns the ssh
// command line that reaches sh with it.
func (s sshSetup) prepare(sh *api.Shell) (*sshCommand, error) {
	// The id and user go into a line that ssh (and, through ProxyCommand's
	// %h, a shell) reads: only what a bridge's ids and POSIX names are.
	if !shellIDPattern.MatchString(sh.ID) {
		return nil, fmt.Errorf("the bridge answered a shell id %q that is not one: refusing to put it in an ssh command", sh.ID)
	}
	if u := sh.AgentUserGroup; u != nil && u.User != "" && !posixNamePattern.MatchString(u.User) {
		return nil, fmt.Errorf("the bridge answered a POSIX user %q that is not a user name: refusing to put it in an ssh command", u.User)
	}
	if sh.PrivateKey == "" {
		return nil, fmt.Errorf("shell %s has no SSH key to show: only the shell's owner holds its key, and a shell started before shells had SSH has none", sh.ID)
	}
	if strings.Contains(s.cacheDir, "%") || strings.Contains(s.cacheDir, "${") {
		// ssh expands both in -i's path, and has no escape that -i takes.
		return nil, fmt.Errorf("ssh cannot take a key under %s (a %% or ${ in it); set XDG_CACHE_HOME to a folder without", s.cacheDir)
	}
	if sh.SSHHostKey != "" && !hostKeyPattern.MatchString(sh.SSHHostKey) {
		return nil, fmt.Errorf("the bridge answered a host key %q that is not one: refusing to pin it", sh.SSHHostKey)
	}
	keyFile, err := writeShellFile(s.cacheDir, sh.ID, "key", []byte(sh.PrivateKey))
	if err != nil {
		return nil, err
	}
	c := &sshCommand{KeyFile: keyFile}
	if sh.SSHHostKey != "" {
		// ssh knows the shell by its id, the destination's host name.
		if c.KnownHostsFile, err = writeShellFile(s.cacheDir, sh.ID, "known_hosts", []byte(sh.ID+" "+sh.SSHHostKey+"\n")); err != nil {
			return nil, err
		}
	}
	c.Command = s.command(sh, c.KeyFile, c.KnownHostsFile)
	return c, nil
}

// What a shell's id and its POSIX user may be in an ssh command line.
var (
	shellIDPattern   = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z-]{0,63}$`)
	posixNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)
	hostKeyPattern   = regexp.MustCompile(`^ssh-[a-z0-9-]+ [A-Za-z0-9+/]+=*$`)
)

// command is the ssh command line that reaches sh with the key in
// keyFile, through `det shell tunnel` as its ProxyCommand, checking the
// shell's host key against knownHosts ("" checks none). ssh expands "%"
// in ProxyCommand, so a literal one is doubled; it runs ProxyCommand with
// a shell, so its words are quoted.
func (s sshSetup) command(sh *api.Shell, keyFile, knownHosts string) []string {
	proxy := strings.Join([]string{shellQuote(s.det), "-m", shellQuote(s.master), "shell", "tunnel"}, " ")
	dest := sh.ID
	if u := sh.AgentUserGroup; u != nil && u.User != "" {
		dest = u.User + "@" + sh.ID
	}
	strict, hosts := "no", "/dev/null"
	if knownHosts != "" {
		strict, hosts = "yes", knownHosts
	}
	return []string{"ssh",
		"-o", "ProxyCommand=" + strings.ReplaceAll(proxy, "%", "%%") + " %h",
		"-o", "StrictHostKeyChecking=" + strict,
		"-o", "UserKnownHostsFile=" + hosts,
		"-o", "IdentitiesOnly=yes",
		"-i", keyFile,
		dest}
}

// shellQuote is s as one word for a POSIX shell: as it is when it has
// only characters no shell treats specially, else in single quotes, a
// single quote in it closing them, escaped with a backslash, and opening
// them again.
func shellQuote(s string) string {
	plain := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// showSSHOptions are the arguments of `det shell show_ssh_command`.
type showSSHOptions struct {
	id     string // an id or a unique prefix
	asJSON bool
	setup  sshSetup
}

func newShowSSHCommandCmd(g *globals) *cobra.Command {
	o := &showSSHOptions{}
	cmd := &cobra.Command{
		Use:     "show_ssh_command ID",
		Aliases: []string{"show-ssh-command"},
		Short:   "Print an ssh command line that reaches a shell",
		Long: `Print an ssh command line that logs in to the shell's SSH server, for a
terminal or an editor's remote connection. The shell's private key (shown to
its owner only) is written to $XDG_CACHE_HOME/det/shell/<id>/key (default
~/.cache/det/shell/<id>/key); ssh reaches the shell through the bridge with
"det shell tunnel" as its ProxyCommand, logged in as det is.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeIDs(client.ShellKind),
		RunE: g.runE(func(ctx context.Context, c bridgeClient, args []string) error {
			setup, err := g.sshSetup()
			if err != nil {
				return err
			}
			o.id, o.setup = args[0], setup
			return runShowSSHCommand(ctx, *o, c, g.con)
		}),
	}
	cmd.Flags().BoolVar(&o.asJSON, "json", false, `print {"command": [its arguments], "keyFile": path} instead`)
	return cmd
}

// runShowSSHCommand writes a shell's key and prints the ssh command line
// that reaches it.
func runShowSSHCommand(ctx context.Context, o showSSHOptions, c bridgeClient, con *console) error {
	got, err := c.Get(ctx, client.ShellKind, o.id)
	if err != nil {
		return err
	}
	if api.Terminal(got.Task.State) {
		return fmt.Errorf("shell %s has ended", got.Task.ID)
	}
	sh := got.Shell
	if sh == nil {
		sh = &api.Shell{Notebook: got.Task}
	}
	cmd, err := o.setup.prepare(sh)
	if err != nil {
		return err
	}
	if o.asJSON {
		return con.printJSON(cmd)
	}
	_, err = fmt.Fprintln(con.Out, cmd.line())
	return err
}
