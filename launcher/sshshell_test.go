package launcher

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/tunnel"
	"golang.org/x/crypto/ssh"
)

// TestSSHUpgradeHandsOver: the bridge's SSH upgrade with the task's token
// is answered 101 and the connection, with the bytes that came with the
// request, goes to the SSH server's listener; a wrong token is refused
// and other requests go to the shell's terminal.
func TestSSHUpgradeHandsOver(t *testing.T) {
	l := tunnel.NewListener()
	defer l.Close()
	terminal := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "terminal") })
	srv := &http.Server{Handler: (&shellSSH{l: l}).handler("tok", terminal)}
	front := tunnel.NewListener()
	go func() { _ = srv.Serve(front) }()
	defer srv.Close()
	ask := func(req string) (*bufio.Reader, net.Conn) {
		a, b := net.Pipe()
		go front.Serve(b)
		_ = a.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(a, req); err != nil {
			t.Fatal(err)
		}
		return bufio.NewReader(a), a
	}
	status := func(br *bufio.Reader) int {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	up := "GET / HTTP/1.1\r\nHost: shell\r\nConnection: Upgrade\r\nUpgrade: " + jobspec.SSHUpgrade + "\r\n"
	if br, c := ask(up + "Authorization: token nope\r\n\r\n"); status(br) != http.StatusForbidden {
		t.Error("a wrong token was not refused")
	} else {
		c.Close()
	}
	if br, c := ask("GET /shell HTTP/1.1\r\nHost: shell\r\n\r\n"); status(br) != http.StatusOK {
		t.Error("a plain request did not reach the terminal")
	} else {
		c.Close()
	}
	br, c := ask(up + "Authorization: token tok\r\n\r\nSSH-2.0-client\r\n")
	defer c.Close()
	if code := status(br); code != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %d", code)
	}
	got, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	_ = got.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(got).ReadString('\n')
	if err != nil || line != "SSH-2.0-client\r\n" {
		t.Fatalf("the SSH server got %q, %v", line, err)
	}
}

// TestHostKeyFromSpec: the SSH server presents the host key the bridge
// put in the spec (whose public half clients pin), and makes one only
// when the spec has none.
func TestHostKeyFromSpec(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "host")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ssh.NewSignerFromKey(priv)
	got, err := hostKey(&jobspec.Spec{SSHHostKey: string(pem.EncodeToMemory(block))})
	if err != nil || !bytes.Equal(got.PublicKey().Marshal(), want.PublicKey().Marshal()) {
		t.Fatalf("host key from the spec: %v", err)
	}
	made, err := hostKey(&jobspec.Spec{})
	if err != nil || bytes.Equal(made.PublicKey().Marshal(), want.PublicKey().Marshal()) {
		t.Fatalf("a host key made at start: %v", err)
	}
	if _, err := hostKey(&jobspec.Spec{SSHHostKey: "not a key"}); err == nil {
		t.Fatal("a spec's broken host key was taken")
	}
}
