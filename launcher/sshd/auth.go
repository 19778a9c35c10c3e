package sshd

import (
	"crypto/subtle"
	"errors"

	"golang.org/x/crypto/ssh"
)

// serverVersion is the identification the server sends.
const serverVersion = "SSH-2.0-det-launcher"

// maxAuthTries bounds the keys a client may offer on one connection.
const maxAuthTries = 6

// errUnauthorized is the answer to every key but the authorized one.
var errUnauthorized = errors.New("public key not authorized")

// serverConfig accepts the authorized public key only: no password,
// keyboard-interactive or none authentication is offered. The user name
// the client gives is not checked: the server runs as the job's user
// whatever it is.
func (s *Server) serverConfig() *ssh.ServerConfig {
	want := s.cfg.AuthorizedKey.Marshal()
	c := &ssh.ServerConfig{
		MaxAuthTries:  maxAuthTries,
		ServerVersion: serverVersion,
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if !keyMatches(want, key) {
				s.log.Info("ssh key refused", "ssh_user", meta.User(), "key", ssh.FingerprintSHA256(key))
				return nil, errUnauthorized
			}
			return &ssh.Permissions{}, nil
		},
	}
	c.AddHostKey(s.cfg.HostKey)
	return c
}

// keyMatches compares key with the authorized key's wire form in constant
// time.
func keyMatches(want []byte, key ssh.PublicKey) bool {
	return subtle.ConstantTimeCompare(want, key.Marshal()) == 1
}
