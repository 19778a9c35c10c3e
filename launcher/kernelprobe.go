package launcher

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/google/uuid"
)

// kernelProber finds out whether a kernel runs a cell when Jupyter cannot
// tell. Jupyter learns a kernel's state from the kernel's status messages,
// which its own watcher can miss for good: the kernel then shows as
// "starting" whatever it does. A kernel runs one shell request at a time,
// so the prober asks the kernel itself, on its shell channel, for its
// kernel_info: an answer within wait means the kernel is idle; no answer
// means the request waits behind a running cell. The request stays open
// until the kernel answers it, so a long cell costs one request, not one
// per heartbeat.
type kernelProber struct {
	dir  string        // Jupyter's runtime folder, with kernel-<id>.json
	wait time.Duration // how long an idle kernel may take to answer
	log  *slog.Logger

	mu       sync.Mutex
	pending  map[string]*shellProbe // kernels that have not answered yet
	lastBusy map[string]time.Time   // when each probed kernel was last seen busy
	told     map[string]bool        // kernels whose probing was logged
}

func newKernelProber(dir string, log *slog.Logger) *kernelProber {
	return &kernelProber{dir: dir, wait: time.Second, log: log, pending: map[string]*shellProbe{}, lastBusy: map[string]time.Time{}, told: map[string]bool{}}
}

// resolve replaces the "starting" state Jupyter gives a kernel with what
// the kernel itself says, and moves its last activity to when it was last
// seen busy. It forgets the kernels that are gone.
func (p *kernelProber) resolve(ctx context.Context, kernels []jupyterKernel, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	live := map[string]bool{}
	for i := range kernels {
		k := &kernels[i]
		live[k.ID] = true
		if k.ExecutionState != "starting" {
			delete(p.lastBusy, k.ID)
			p.drop(k.ID)
			continue
		}
		st := p.state(ctx, k.ID)
		if st != "" && !p.told[k.ID] {
			p.told[k.ID] = true
			p.log.Info("Jupyter does not know the kernel's state; asking the kernel", "kernel", k.ID, "state", st)
		}
		switch st {
		case "busy":
			k.ExecutionState = "busy"
			p.lastBusy[k.ID] = now
		case "idle":
			k.ExecutionState = "idle"
		}
		if t := p.lastBusy[k.ID]; t.After(k.LastActivity) {
			k.LastActivity = t
		}
	}
	for id := range p.pending {
		if !live[id] {
			p.drop(id)
		}
	}
	for id := range p.lastBusy {
		if !live[id] {
			delete(p.lastBusy, id)
		}
	}
	for id := range p.told {
		if !live[id] {
			delete(p.told, id)
		}
	}
}

// close ends every open probe.
func (p *kernelProber) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id := range p.pending {
		p.drop(id)
	}
}

func (p *kernelProber) drop(id string) {
	if pr := p.pending[id]; pr != nil {
		pr.cancel()
		delete(p.pending, id)
	}
}

// state is "busy", "idle", or "" when the kernel could not be asked.
func (p *kernelProber) state(ctx context.Context, id string) string {
	pr := p.pending[id]
	if pr == nil {
		var err error
		if pr, err = p.ask(id); err != nil {
			p.log.Debug("cannot ask the kernel for its state", "kernel", id, "err", err)
			return ""
		}
		p.pending[id] = pr
		t := time.NewTimer(p.wait)
		defer t.Stop()
		select {
		case <-pr.done:
		case <-t.C:
		case <-ctx.Done():
		}
	}
	select {
	case <-pr.done:
		p.drop(id)
		if pr.err != nil {
			return ""
		}
		return "idle"
	default:
		return "busy"
	}
}

// shellProbe is one kernel_info_request waiting for its reply.
type shellProbe struct {
	cancel context.CancelFunc
	done   chan struct{} // closed once the reply came or the socket failed
	err    error         // set before done closes when no reply can come
}

// connectionFile is what the prober needs from a kernel's connection file.
type connectionFile struct {
	Transport       string `json:"transport"`
	IP              string `json:"ip"`
	ShellPort       int    `json:"shell_port"`
	Key             string `json:"key"`
	SignatureScheme string `json:"signature_scheme"`
}

func (c connectionFile) shellEndpoint() string {
	if c.Transport == "ipc" {
		return "ipc://" + c.IP + "-" + strconv.Itoa(c.ShellPort)
	}
	return "tcp://" + c.IP + ":" + strconv.Itoa(c.ShellPort)
}

// ask sends a kernel_info_request to the kernel's shell channel and waits
// for the reply in the background.
func (p *kernelProber) ask(id string) (*shellProbe, error) {
	if id == "" || filepath.Base(id) != id {
		return nil, fmt.Errorf("kernel id %q is not a file name", id)
	}
	raw, err := os.ReadFile(filepath.Join(p.dir, "kernel-"+id+".json"))
	if err != nil {
		return nil, fmt.Errorf("read the kernel's connection file: %w", err)
	}
	var cf connectionFile
	if err := json.Unmarshal(raw, &cf); err != nil {
		return nil, fmt.Errorf("parse the kernel's connection file: %w", err)
	}
	if cf.SignatureScheme != "" && cf.SignatureScheme != "hmac-sha256" {
		return nil, fmt.Errorf("signature scheme %q is not supported", cf.SignatureScheme)
	}
	msgID := uuid.NewString()
	frames, err := kernelInfoRequest(msgID, []byte(cf.Key))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	sock := zmq4.NewDealer(ctx, zmq4.WithDialerTimeout(p.wait), zmq4.WithDialerMaxRetries(0))
	if err := sock.Dial(cf.shellEndpoint()); err != nil {
		cancel()
		sock.Close()
		return nil, fmt.Errorf("connect to the kernel's shell channel: %w", err)
	}
	if err := sock.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
		cancel()
		sock.Close()
		return nil, fmt.Errorf("send kernel_info_request: %w", err)
	}
	pr := &shellProbe{done: make(chan struct{})}
	pr.cancel = func() { cancel(); sock.Close() }
	go func() {
		defer close(pr.done)
		for {
			msg, err := sock.Recv()
			if err != nil {
				pr.err = err
				return
			}
			if replyTo(msg.Frames) == msgID {
				return
			}
		}
	}()
	return pr, nil
}

// delimiter separates routing frames from a Jupyter message's own frames.
var delimiter = []byte("<IDS|MSG>")

// kernelInfoRequest builds the frames of a signed kernel_info_request.
func kernelInfoRequest(msgID string, key []byte) ([][]byte, error) {
	header, err := json.Marshal(map[string]string{
		"msg_id": msgID, "session": msgID, "username": "det-launcher",
		"date": time.Now().UTC().Format(time.RFC3339Nano), "msg_type": "kernel_info_request", "version": "5.3",
	})
	if err != nil {
		return nil, err
	}
	parts := [][]byte{header, []byte("{}"), []byte("{}"), []byte("{}")}
	sig := ""
	if len(key) > 0 {
		mac := hmac.New(sha256.New, key)
		for _, b := range parts {
			mac.Write(b)
		}
		sig = hex.EncodeToString(mac.Sum(nil))
	}
	return append([][]byte{delimiter, []byte(sig)}, parts...), nil
}

// replyTo returns the msg_id of the request a message answers, or "".
func replyTo(frames [][]byte) string {
	for i, f := range frames {
		if !bytes.Equal(f, delimiter) || i+3 >= len(frames) {
			continue
		}
		var parent struct {
			MsgID string `json:"msg_id"`
		}
		if json.Unmarshal(frames[i+3], &parent) != nil {
			return ""
		}
		return parent.MsgID
	}
	return ""
}
