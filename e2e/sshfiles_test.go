package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSSHShellFilesAndForward: with the line our `det shell
// show_ssh_command` prints, scp (which speaks sftp) puts 50 MiB into the
// shell's working folder and gets it back byte for byte. No process of the
// job listens on TCP (in direct mode, but for the launcher's own port). A
// web server started over ssh in the job, on loopback, answers through
// `ssh -L`.
func TestSSHShellFilesAndForward(t *testing.T) {
	t.Parallel()
	cluster(t)
	a := startAliceShell(t)
	u := a.user

	data := make([]byte, 50<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])
	local := filepath.Join(u.home, "big.in")
	writeFileAs(t, u, local, data)
	began := time.Now()
	u.ok("", "scp", a.line.scp(local, a.line.remote("big.in"))[1:]...)
	t.Logf("scp put 50 MiB in %s", time.Since(began).Round(time.Millisecond))
	if got := strings.Fields(a.ssh(t, "sha256sum big.in")); len(got) == 0 || got[0] != want {
		t.Errorf("sha256sum big.in in the shell's working folder: %q, want %s", got, want)
	}
	back := filepath.Join(u.home, "big.out")
	began = time.Now()
	u.ok("", "scp", a.line.scp(a.line.remote("big.in"), back)[1:]...)
	t.Logf("scp got 50 MiB in %s", time.Since(began).Round(time.Millisecond))
	if got, err := fileSHA256(back); err != nil || got != want {
		t.Errorf("the file scp brought back: sha256 %s (%v), want %s", got, err, want)
	}

	checkJobListeners(t, a.sh)

	port := strconv.Itoa(freePort(t))
	t.Cleanup(func() {
		endStrays(t, u.uid, "-m", "http.server", "--bind", "127.0.0.1", port)
	})
	localPort := strconv.Itoa(freePort(t))
	// The web server runs in the session that forwards to it, as a user
	// runs TensorBoard: a command started in the background outlives
	// neither its session nor, inside Apptainer, its container.
	fwd := holdForward(t, u, a.line.forward(localPort+":127.0.0.1:"+port, "exec python3 -m http.server --bind 127.0.0.1 "+port))
	hc := &http.Client{Timeout: 5 * time.Second}
	var last string
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := hc.Get("http://127.0.0.1:" + localPort + "/")
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if !strings.Contains(string(body), "big.in") {
					t.Errorf("the web server in the job does not list the working folder's big.in:\n%.500s", body)
				}
				break
			}
			last = fmt.Sprintf("HTTP %d %.200s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		if ended, said := fwd.state(); ended || time.Now().After(deadline) {
			t.Fatalf("GET / through ssh -L %s:127.0.0.1:%s: %s\nssh -L (ended: %v) says: %s", localPort, port, last, ended, said)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// forward is an ssh -N -L that the test holds open.
type forward struct {
	mu     sync.Mutex
	errOut bytes.Buffer
	ended  bool
	// stop ends ssh and waits for it.
	stop func()
}

// Write keeps what ssh prints on stderr.
func (f *forward) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.errOut.Write(p)
}

// state says whether ssh has ended, and what it printed.
func (f *forward) state() (bool, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ended, f.errOut.String()
}

// holdForward starts argv (an ssh -N -L) as u and ends it when the test
// ends.
func holdForward(t *testing.T, u *posixUser, argv []string) *forward {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := u.command(ctx, argv[0], argv[1:]...)
	f := &forward{}
	cmd.Stdout, cmd.Stderr = io.Discard, f
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", cmdText(argv[0], argv[1:]), err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.mu.Lock()
		f.ended = true
		f.mu.Unlock()
		close(done)
	}()
	f.stop = func() { cancel(); <-done }
	t.Cleanup(f.stop)
	return f
}

func fileSHA256(path string) (string, error) {
	f, err := openInHome(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
