package bridge

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// newSSHKey makes a key pair of a shell's SSH server (the key it accepts,
// or its host key): an ed25519 key, returned as an OpenSSH private key
// (PEM) with comment.
func newSSHKey(comment string) (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("make the shell's SSH key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return "", fmt.Errorf("encode the shell's SSH key: %w", err)
	}
	return string(pem.EncodeToMemory(block)), nil
}

// sshPublicKey is the authorized_keys line of a private key newSSHKey made.
func sshPublicKey(private string) (string, error) {
	signer, err := ssh.ParsePrivateKey([]byte(private))
	if err != nil {
		return "", fmt.Errorf("read the shell's SSH key: %w", err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))), nil
}

// toShell is a shell as the API shows it to viewer: its key pair's
// private half only to its owner (an admin who sees the shell gets the
// public half), and the POSIX user it runs as.
func (s *Server) toShell(t *store.Task, viewer string) api.Shell {
	sh := api.Shell{Notebook: s.toAPI(t)}
	if t.PosixUser != "" {
		sh.AgentUserGroup = &api.ShellUser{User: t.PosixUser}
	}
	if t.SSHKey == "" {
		return sh
	}
	if pub, err := sshPublicKey(t.SSHKey); err == nil {
		sh.PublicKey = pub + "\n"
	}
	if t.SSHHostKey != "" {
		if pub, err := sshPublicKey(t.SSHHostKey); err == nil {
			sh.SSHHostKey = pub
		}
	}
	if viewer == t.Owner {
		sh.PrivateKey = t.SSHKey
	}
	return sh
}
