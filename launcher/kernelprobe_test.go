package launcher

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

// fakeKernel answers kernel_info_requests on a shell ROUTER socket, as a
// kernel does, once release lets it (a cell holds it busy until then).
type fakeKernel struct {
	release chan struct{}
	asked   chan struct{}
	badSig  chan string
}

func startFakeKernel(t *testing.T, dir, id string, busy bool) *fakeKernel {
	t.Helper()
	key := "secret-key"
	cf := connectionFile{Transport: "ipc", IP: filepath.Join(dir, "kernel-"+id+"-ipc"), ShellPort: 2, Key: key, SignatureScheme: "hmac-sha256"}
	raw, _ := json.Marshal(cf)
	if err := os.WriteFile(filepath.Join(dir, "kernel-"+id+".json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sock := zmq4.NewRouter(ctx, zmq4.WithID(zmq4.SocketIdentity("kernel")))
	if err := sock.Listen(cf.shellEndpoint()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); sock.Close() })
	k := &fakeKernel{release: make(chan struct{}), asked: make(chan struct{}, 10), badSig: make(chan string, 10)}
	if !busy {
		close(k.release)
	}
	go func() {
		for {
			msg, err := sock.Recv()
			if err != nil {
				return
			}
			f := msg.Frames
			i := 0
			for i < len(f) && string(f[i]) != "<IDS|MSG>" {
				i++
			}
			if i+5 >= len(f) {
				k.badSig <- "short message"
				continue
			}
			mac := hmac.New(sha256.New, []byte(key))
			for _, b := range f[i+2 : i+6] {
				mac.Write(b)
			}
			if got := string(f[i+1]); got != hex.EncodeToString(mac.Sum(nil)) {
				k.badSig <- got
				continue
			}
			var h struct {
				MsgType string `json:"msg_type"`
			}
			_ = json.Unmarshal(f[i+2], &h)
			if h.MsgType != "kernel_info_request" {
				k.badSig <- "msg_type " + h.MsgType
				continue
			}
			k.asked <- struct{}{}
			<-k.release
			reply := append(append([][]byte{}, f[:i]...), []byte("<IDS|MSG>"), []byte(""), []byte(`{"msg_type":"kernel_info_reply"}`), f[i+2], []byte("{}"), []byte("{}"))
			if err := sock.Send(zmq4.NewMsgFrom(reply...)); err != nil {
				return
			}
		}
	}()
	return k
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestKernelProberIdleKernel(t *testing.T) {
	dir := t.TempDir()
	k := startFakeKernel(t, dir, "k1", false)
	p := newKernelProber(dir, quietLog())
	defer p.close()
	start := time.Now().Add(-time.Minute)
	ks := []jupyterKernel{{ID: "k1", ExecutionState: "starting", LastActivity: start}}
	p.resolve(context.Background(), ks, time.Now())
	select {
	case s := <-k.badSig:
		t.Fatalf("the kernel refused the request: %s", s)
	default:
	}
	if ks[0].ExecutionState != "idle" || !ks[0].LastActivity.Equal(start) {
		t.Errorf("kernel = %+v; want idle, last activity unchanged", ks[0])
	}
	if len(p.pending) != 0 {
		t.Errorf("an answered probe stays open")
	}
}

func TestKernelProberBusyKernel(t *testing.T) {
	dir := t.TempDir()
	k := startFakeKernel(t, dir, "k1", true)
	p := newKernelProber(dir, quietLog())
	p.wait = 200 * time.Millisecond
	defer p.close()
	ctx := context.Background()
	t0 := time.Now()
	for i := range 3 {
		ks := []jupyterKernel{{ID: "k1", ExecutionState: "starting"}}
		now := t0.Add(time.Duration(i) * time.Second)
		p.resolve(ctx, ks, now)
		if ks[0].ExecutionState != "busy" || !ks[0].LastActivity.Equal(now) {
			t.Fatalf("beat %d: kernel = %+v; want busy, active now", i, ks[0])
		}
	}
	if n := len(k.asked); n != 1 {
		t.Errorf("the kernel was asked %d times during one cell; want once", n)
	}
	close(k.release) // the cell ends
	deadline := time.Now().Add(5 * time.Second)
	seenBusy := t0.Add(2 * time.Second)
	for i := 1; ; i++ {
		ks := []jupyterKernel{{ID: "k1", ExecutionState: "starting"}}
		now := t0.Add(2*time.Second + time.Duration(i)*time.Millisecond)
		p.resolve(ctx, ks, now)
		if ks[0].ExecutionState == "busy" {
			seenBusy = now
		}
		if ks[0].ExecutionState == "idle" {
			if !ks[0].LastActivity.Equal(seenBusy) {
				t.Errorf("last activity = %s; want when it was last seen busy, %s", ks[0].LastActivity, seenBusy)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the kernel answered, yet it is still %s", ks[0].ExecutionState)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestKernelProberLeavesKnownStatesAndUnknownKernels(t *testing.T) {
	dir := t.TempDir()
	p := newKernelProber(dir, quietLog())
	defer p.close()
	ks := []jupyterKernel{
		{ID: "k1", ExecutionState: "busy"},
		{ID: "k2", ExecutionState: "idle"},
		{ID: "no-file", ExecutionState: "starting"},
		{ID: "../escape", ExecutionState: "starting"},
	}
	p.resolve(context.Background(), ks, time.Now())
	for i, want := range []string{"busy", "idle", "starting", "starting"} {
		if ks[i].ExecutionState != want {
			t.Errorf("kernel %s = %s; want %s", ks[i].ID, ks[i].ExecutionState, want)
		}
	}
}
