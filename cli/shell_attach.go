package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/gorilla/websocket"
	"golang.org/x/term"

	"github.com/det-slurm/bridge/jobspec"
)

// exitError carries the remote shell's exit status to det's own.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("the shell exited with status %d", e.code) }

// attachShell connects the local terminal to a shell through the bridge:
// raw mode, resizes forwarded, Ctrl-C to the remote side, "~." at the start
// of a line detaches and leaves the shell running.
func attachShell(ctx context.Context, c bridgeClient, con *console, id string) error {
	conn, err := c.DialShell(ctx, id)
	if err != nil {
		return fmt.Errorf("attach to shell %s: %w", id, err)
	}
	defer conn.Close()
	sc := &shellConn{conn: conn}
	in, _ := con.In.(*os.File)
	if in != nil && term.IsTerminal(int(in.Fd())) {
		old, err := term.MakeRaw(int(in.Fd()))
		if err != nil {
			return fmt.Errorf("put the terminal in raw mode: %w", err)
		}
		defer term.Restore(int(in.Fd()), old)
		sendSize := func() {
			if w, h, err := term.GetSize(int(in.Fd())); err == nil {
				_ = sc.control(jobspec.ShellControl{Type: jobspec.ShellResize, Rows: uint16(h), Cols: uint16(w)})
			}
		}
		sendSize()
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				sendSize()
			}
		}()
	}
	result := make(chan error, 2)
	go func() { result <- copyOutput(conn, con.Out) }()
	go func() { result <- copyInput(con.In, sc.keys) }()
	err = <-result
	if errors.Is(err, errDetached) {
		fmt.Fprintf(con.ErrOut, "\r\nDetached from shell %s; it goes on running. `det shell open %s` attaches again.\r\n", id, shortID(id))
		return nil
	}
	return err
}

var errDetached = errors.New("detached")

// shellConn is the sending side of a shell's websocket: keystrokes go in
// binary messages, control messages in text messages (see
// api.ShellControl), one writer at a time.
type shellConn struct {
	mu   sync.Mutex
	conn *websocket.Conn
}

// keys sends keystrokes.
func (c *shellConn) keys(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn.WriteMessage(websocket.BinaryMessage, b)
}

// control sends a control message.
func (c *shellConn) control(m jobspec.ShellControl) error {
	msg, err := json.Marshal(m)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn.WriteMessage(websocket.TextMessage, msg)
}

// copyOutput writes the shell's output (binary messages) until it exits
// (a text message: api.ShellControl with the exit status) or the
// connection ends.
func copyOutput(conn *websocket.Conn, out io.Writer) error {
	for {
		mt, data, err := conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("the connection to the shell ended: %w", err)
		}
		if mt == websocket.TextMessage {
			var ctl jobspec.ShellControl
			if json.Unmarshal(data, &ctl) == nil && ctl.Type == jobspec.ShellExit {
				if ctl.Code == 0 {
					return nil
				}
				return &exitError{code: ctl.Code}
			}
			continue
		}
		if _, err := out.Write(data); err != nil {
			return err
		}
	}
}

// copyInput sends keystrokes with send; "~." at the start of a line
// detaches.
func copyInput(in io.Reader, send func([]byte) error) error {
	buf := make([]byte, 4096)
	lineStart, tilde := true, false
	for {
		n, err := in.Read(buf)
		if err != nil {
			return errDetached
		}
		var out []byte
		for _, b := range buf[:n] {
			switch {
			case tilde && b == '.':
				if len(out) > 0 {
					_ = send(out)
				}
				return errDetached
			case tilde:
				out = append(out, '~', b)
				tilde = false
			case lineStart && b == '~':
				tilde = true
				continue
			default:
				out = append(out, b)
			}
			lineStart = b == '\r' || b == '\n'
		}
		if len(out) > 0 {
			if err := send(out); err != nil {
				return fmt.Errorf("send to the shell: %w", err)
			}
		}
	}
}
