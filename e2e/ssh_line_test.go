package e2e

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// sshLine is an ssh command line that a CLI printed (show_ssh_command),
// taken apart into what ssh, scp and a forward need.
type sshLine struct {
	printed []string // the line's words, "ssh" first
	opts    []string // its options (-o X, -i KEY) in order, without -t
	dest    string   // user@shell-id
	key     string   // the -i file
}

// batch makes ssh and scp fail rather than ask anything, give up on a
// shell that does not answer, and, unless the line names a known_hosts
// file of its own (where our CLI pins the shell's host key), keep no host
// key: ssh would put it in the user's real ~/.ssh (from the passwd entry,
// whatever HOME says). ssh takes the first value of an option, so these
// come first.
func (l sshLine) batch() []string {
	b := []string{"-o", "BatchMode=yes", "-o", "ConnectTimeout=60"}
	for _, o := range l.opts {
		if strings.HasPrefix(o, "UserKnownHostsFile=") {
			return b
		}
	}
	return append(b, "-o", "UserKnownHostsFile=/dev/null")
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// parseSSHLine finds the ssh command in a CLI's output and takes it
// apart; it fails the test on a line a POSIX shell would read otherwise
// than as plain words.
func parseSSHLine(t *testing.T, out string) sshLine {
	t.Helper()
	var text string
	for _, l := range strings.Split(ansiEscape.ReplaceAllString(out, ""), "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "ssh ") {
			text = l
		}
	}
	if text == "" {
		t.Fatalf("no ssh command line in the output:\n%s", out)
	}
	words, err := shellWords(text)
	if err != nil {
		t.Fatalf("the ssh command line does not split into words: %v\n%s", err, text)
	}
	l := sshLine{printed: words}
	for i := 1; i < len(words); i++ {
		switch w := words[i]; {
		case w == "-t" || w == "-tt" || w == "-T":
		case (w == "-o" || w == "-i") && i+1 < len(words):
			l.opts = append(l.opts, w, words[i+1])
			if w == "-i" {
				l.key = words[i+1]
			}
			i++
		case strings.HasPrefix(w, "-"):
			t.Fatalf("ssh option %q in the printed line is not one this test knows:\n%s", w, text)
		case l.dest == "":
			l.dest = words[i]
		default:
			t.Fatalf("more than a destination after the options of the printed line:\n%s", text)
		}
	}
	if l.dest == "" || l.key == "" {
		t.Fatalf("the ssh command line has no destination or no -i key file:\n%s", text)
	}
	return l
}

// asPrinted is the printed line, with batch after "ssh" and the remote
// command words at the end.
func (l sshLine) asPrinted(remote ...string) []string {
	return append(append(append([]string{"ssh"}, l.batch()...), l.printed[1:]...), remote...)
}

// ssh runs remote words on the shell, without a terminal.
func (l sshLine) ssh(remote ...string) []string {
	return append(append(append(append([]string{"ssh"}, l.batch()...), l.opts...), l.dest), remote...)
}

// scp copies from to to; a remote side is l.remote(path).
func (l sshLine) scp(from, to string) []string {
	return append(append(append([]string{"scp"}, l.batch()...), l.opts...), from, to)
}

// remote names path on the shell, for scp.
func (l sshLine) remote(path string) string { return l.dest + ":" + path }

// forward holds a local forward (-L spec) open while command runs in
// the shell; with command "", it runs nothing (-N).
func (l sshLine) forward(spec, command string) []string {
	args := append([]string{"ssh"}, l.batch()...)
	args = append(args, "-o", "ExitOnForwardFailure=yes", "-L", spec)
	if command == "" {
		return append(append(append(args, "-N"), l.opts...), l.dest)
	}
	return append(append(args, l.opts...), l.dest, command)
}

// withKey is the same line with another -i key file.
func (l sshLine) withKey(key string) sshLine {
	swap := func(words []string) []string {
		out := append([]string(nil), words...)
		for i := 1; i < len(out); i++ {
			if out[i-1] == "-i" {
				out[i] = key
			}
		}
		return out
	}
	return sshLine{printed: swap(l.printed), opts: swap(l.opts), dest: l.dest, key: key}
}

// withKnownHosts is the same line with another known_hosts file.
func (l sshLine) withKnownHosts(path string) sshLine {
	swap := func(words []string) []string {
		out := append([]string(nil), words...)
		for i, w := range out {
			if strings.HasPrefix(w, "UserKnownHostsFile=") {
				out[i] = "UserKnownHostsFile=" + path
			}
		}
		return out
	}
	return sshLine{printed: swap(l.printed), opts: swap(l.opts), dest: l.dest, key: l.key}
}

// shellWords splits a command line as a POSIX shell does, for what a CLI
// prints to be pasted: words between blanks, '...' literally, "..." with
// \" \\ \$ \` escaped, \ outside quotes. It expands nothing, and refuses
// unquoted characters a shell would act on.
func shellWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		switch ch := line[i]; {
		case ch == ' ' || ch == '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case ch == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated '")
			}
			cur.WriteString(line[i+1 : i+1+end])
			i, inWord = i+1+end, true
		case ch == '"':
			inWord = true
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte("\"\\$`", line[i+1]) >= 0 {
					i++
				} else if line[i] == '$' || line[i] == '`' {
					return nil, fmt.Errorf("%q inside double quotes would be expanded", line[i])
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errors.New("unterminated \"")
			}
		case ch == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case strings.IndexByte("$`;&|<>()", ch) >= 0 || !inWord && (ch == '#' || ch == '~'):
			return nil, fmt.Errorf("unquoted %q", ch)
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// TestSSHLineParse reads the lines both CLIs print (no cluster needed):
// Determined's (Python's list2cmdline, in color) and a POSIX-quoted one.
func TestSSHLineParse(t *testing.T) {
	id := "0b3c2a4e-1111-2222-3333-444455556666"
	det := "\x1b[32mssh -o \"ProxyCommand=/usr/bin/python3 -m determined.cli.tunnel http://127.0.0.1:8080 %h\" " +
		"-o StrictHostKeyChecking=no -tt -o IdentitiesOnly=yes -i /tmp/h/.cache/determined/shell/" + id + "/key alice@" + id + "\x1b[0m\n"
	l := parseSSHLine(t, "DEPRECATION WARNING: show_ssh_command\n"+det)
	if l.dest != "alice@"+id || l.key != "/tmp/h/.cache/determined/shell/"+id+"/key" ||
		l.opts[1] != "ProxyCommand=/usr/bin/python3 -m determined.cli.tunnel http://127.0.0.1:8080 %h" || len(l.printed) != 11 {
		t.Errorf("Determined's line read as %+v", l)
	}
	if got := strings.Join(l.withKey("/k").ssh("true"), " "); !strings.Contains(got, "-i /k alice@"+id+" true") || strings.Contains(got, "-tt") {
		t.Errorf("ssh argv %q", got)
	}
	ours := `ssh -o 'ProxyCommand=/opt/x y/det -m http://h:8080 shell tunnel %h' -o IdentitiesOnly=yes -i "/tmp/a b/key" alice@` + id
	if l := parseSSHLine(t, ours); l.opts[1] != "ProxyCommand=/opt/x y/det -m http://h:8080 shell tunnel %h" || l.key != "/tmp/a b/key" {
		t.Errorf("a POSIX-quoted line read as %+v", l)
	}
	for _, bad := range []string{`ssh -i $HOME/key a@b`, `ssh "a`, `ssh a@b; rm x`, "ssh -i \"`k`\" a@b"} {
		if w, err := shellWords(bad); err == nil {
			t.Errorf("shellWords(%q) = %q, want an error", bad, w)
		}
	}
}
