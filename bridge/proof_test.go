package bridge

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/slurm"
)

// fakePort listens on loopback and serves each connection with serve.
func fakePort(t *testing.T, serve func(c net.Conn, port int)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	port := l.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c, port)
			}()
		}
	}()
	return port
}

// launcherLike answers the proof with key, as a launcher holding the port
// does.
func launcherLike(key, taskID string) func(net.Conn, int) {
	return func(c net.Conn, port int) {
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, jobspec.ProofPreamble) {
			return
		}
		nonce := strings.TrimSuffix(strings.TrimPrefix(line, jobspec.ProofPreamble), "\n")
		c.Write([]byte(jobspec.ProofAnswer(key, taskID, port, nonce) + "\n"))
	}
}

func TestCheckProof(t *testing.T) {
	ctx := context.Background()
	const key, id = "the-key", "task-1"
	var nonces []string
	seen := make(chan string, 4)
	good := fakePort(t, func(c net.Conn, port int) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		seen <- line
		nonce := strings.TrimSuffix(strings.TrimPrefix(line, jobspec.ProofPreamble), "\n")
		c.Write([]byte(jobspec.ProofAnswer(key, id, port, nonce) + "\n"))
	})
	for i := 0; i < 2; i++ {
		if err := checkProof(ctx, "127.0.0.1", good, id, key); err != nil {
			t.Fatalf("the task's launcher refused: %v", err)
		}
		line := <-seen
		if !strings.HasPrefix(line, jobspec.ProofPreamble) || !strings.HasSuffix(line, "\n") {
			t.Fatalf("asked %q", line)
		}
		nonces = append(nonces, line)
	}
	if nonces[0] == nonces[1] {
		t.Error("two checks sent the same nonce")
	}
	if err := checkProof(ctx, "127.0.0.1", good, "task-2", key); !errors.Is(err, errProofWrong) {
		t.Errorf("a launcher of another task: %v, want errProofWrong", err)
	}

	wrongKey := fakePort(t, launcherLike("another-key", id))
	if err := checkProof(ctx, "127.0.0.1", wrongKey, id, key); !errors.Is(err, errProofWrong) {
		t.Errorf("wrong key: %v, want errProofWrong", err)
	}
	// A relay: a listener that passes the question on to the real launcher
	// gets an answer for the launcher's port, not its own.
	relay := fakePort(t, func(c net.Conn, _ int) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		up, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(good)))
		if err != nil {
			return
		}
		defer up.Close()
		up.Write([]byte(line))
		ans, _ := bufio.NewReader(up).ReadString('\n')
		c.Write([]byte(ans))
	})
	if err := checkProof(ctx, "127.0.0.1", relay, id, key); !errors.Is(err, errProofWrong) {
		t.Errorf("relay to the real launcher: %v, want errProofWrong", err)
	}
	httpish := fakePort(t, func(c net.Conn, _ int) {
		bufio.NewReader(c).ReadString('\n')
		c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	})
	if err := checkProof(ctx, "127.0.0.1", httpish, id, key); !errors.Is(err, errProofWrong) {
		t.Errorf("an HTTP server: %v, want errProofWrong", err)
	}
	// It hangs up once the question is in: closing with the question
	// unread would make the kernel reset the connection instead, or not,
	// depending on which side is faster.
	closes := fakePort(t, func(c net.Conn, _ int) { bufio.NewReader(c).ReadString('\n') })
	if err := checkProof(ctx, "127.0.0.1", closes, id, key); !errors.Is(err, errProofWrong) {
		t.Errorf("a server that hangs up without answering: %v, want errProofWrong", err)
	}
	silent := fakePort(t, func(c net.Conn, _ int) { time.Sleep(3 * time.Second) })
	start := time.Now()
	err := checkProof(ctx, "127.0.0.1", silent, id, key)
	if err == nil || errors.Is(err, errProofWrong) {
		t.Errorf("a silent server: %v, want a timeout", err)
	}
	if d := time.Since(start); d > proofTimeout+time.Second {
		t.Errorf("the check of a silent server took %s", d)
	}
	endless := fakePort(t, func(c net.Conn, _ int) {
		for {
			if _, err := c.Write([]byte(strings.Repeat("x", 4096))); err != nil {
				return
			}
		}
	})
	if err := checkProof(ctx, "127.0.0.1", endless, id, key); !errors.Is(err, errProofWrong) {
		t.Errorf("a server that never stops talking: %v, want errProofWrong", err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if err := checkProof(ctx, "127.0.0.1", closed, id, key); err == nil || errors.Is(err, errProofWrong) {
		t.Errorf("nothing on the port: %v, want a connection error", err)
	}
}

// TestReadyNeedsProof: a ready callback with the right secret and node is
// refused, and nothing is routed, when the port does not prove it is the
// task's launcher: 403 for a wrong answer, 502 for none; the bridge asks
// the node's address at the reported port with the task's key.
func TestReadyNeedsProof(t *testing.T) {
	h := newHarness(t)
	nb := h.start(nil)
	task, _ := h.srv.store.GetTask(context.Background(), nb.ID)
	if len(task.ProofKey) != 64 || task.ProofKey == task.Secret || task.ProofKey == task.JupyterToken {
		t.Fatalf("proof key %q", task.ProofKey)
	}
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "RUNNING", Nodes: []string{"r1-gpu01-ib"}}
	path := "/api/v1/tasks/" + nb.ID + "/ready"
	h.token = ""
	var asked []string
	for _, c := range []struct {
		err  error
		want int
	}{{errProofWrong, http.StatusForbidden}, {errors.New("no answer within 2s"), http.StatusBadGateway}} {
		h.srv.prove = func(_ context.Context, host string, port int, id, key string) error {
			asked = append(asked, host+" "+itoa(port)+" "+id+" "+key)
			return c.err
		}
		w := h.req("POST", path, jobspec.ReadyRequest{Node: "r1-gpu01-ib", Port: 4000}, map[string]string{jobspec.SecretHeader: task.Secret})
		if w.Code != c.want {
			t.Errorf("proof failing with %v: %d %s, want %d", c.err, w.Code, w.Body, c.want)
		}
		if r, _ := h.srv.Routes().Get(nb.ID); r.Target != nil {
			t.Fatalf("a port that failed its proof was routed: %+v", r)
		}
		if got, _ := h.srv.store.GetTask(context.Background(), nb.ID); got.State == api.StateRunning || got.Port != 0 {
			t.Fatalf("task after a failed proof: %+v", got)
		}
	}
	want := "10.0.0.1 4000 " + nb.ID + " " + task.ProofKey
	if len(asked) != 2 || asked[0] != want {
		t.Fatalf("proof asked %q, want %q", asked, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
