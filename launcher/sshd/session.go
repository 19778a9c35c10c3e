package sshd

import (
	"context"
	"log/slog"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// session is one "session" channel: its requests set up and start one
// thing (a shell, a command or the sftp subsystem), whose end closes it.
// Only the session's own goroutine touches its fields.
type session struct {
	srv  *Server
	ch   ssh.Channel
	log  *slog.Logger
	env  []string     // "NAME=value" the client set, allowed ones only
	term string       // the pty-req's TERM; "" without a pty
	size unix.Winsize // the terminal's size, with a pty
	// Once started:
	started bool
	ptmx    *os.File // the terminal's master side, with a pty
	pgid    int      // the command's process group, 0 for sftp
}

// result is how a session's work ended.
type result struct {
	code   int    // exit status, when signal is ""
	signal string // the signal's RFC 4254 name, when killed by one
}

// Request payloads (RFC 4254 section 6).
type (
	ptyReqMsg struct {
		Term                 string
		Cols, Rows, PxW, PxH uint32
		Modes                string
	}
	windowChangeMsg struct{ Cols, Rows, PxW, PxH uint32 }
	envMsg          struct{ Name, Value string }
	stringMsg       struct{ Value string } // exec's command, subsystem's name, signal's name
)

// session serves one session channel until its work ends, the client
// closes it, or ctx ends (which ends the work).
func (s *Server) session(ctx context.Context, nch ssh.NewChannel, log *slog.Logger) {
	ch, reqs, err := nch.Accept()
	if err != nil {
		log.Info("ssh session not accepted", "err", err)
		return
	}
	defer s.opened()()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ss := &session{srv: s, ch: ch, log: log, size: unix.Winsize{Row: 24, Col: 80}}
	var finished <-chan result // set once the work has started
	ctxDone := ctx.Done()
	for {
		select {
		case r, ok := <-reqs:
			if !ok { // the client closed the channel, or left
				cancel()
				reqs = nil
				if finished == nil {
					ch.Close()
					return
				}
				continue
			}
			if done := ss.handle(ctx, r); done != nil {
				finished = done
			}
		case res := <-finished:
			ss.exit(res)
			if reqs != nil {
				go ssh.DiscardRequests(reqs) // until the close is answered
			}
			return
		case <-ctxDone:
			if finished == nil {
				ch.Close()
				return
			}
			ctxDone = nil // the work ends with ctx; its result follows
		}
	}
}

// handle answers one request; it returns a channel for the work's result
// when the request started it.
func (ss *session) handle(ctx context.Context, r *ssh.Request) <-chan result {
	ok := false
	var done <-chan result
	switch r.Type {
	case "pty-req":
		var m ptyReqMsg
		if !ss.started && ssh.Unmarshal(r.Payload, &m) == nil {
			ss.term = m.Term
			if ss.term == "" {
				ss.term = "xterm"
			}
			ss.resize(m.Cols, m.Rows)
			ok = true
		}
	case "window-change":
		var m windowChangeMsg
		if ss.term != "" && ssh.Unmarshal(r.Payload, &m) == nil {
			ss.resize(m.Cols, m.Rows)
			ok = true
		}
	case "env":
		var m envMsg
		if !ss.started && ssh.Unmarshal(r.Payload, &m) == nil {
			if ok = envAllowed(m.Name, m.Value); ok {
				ss.env = append(ss.env, m.Name+"="+m.Value)
			} else {
				ss.log.Info("ssh env variable refused", "name", m.Name)
			}
		}
	case "shell":
		if !ss.started {
			done = ss.run(ctx, []string{"-l"})
		}
	case "exec":
		var m stringMsg
		if !ss.started && ssh.Unmarshal(r.Payload, &m) == nil {
			done = ss.run(ctx, []string{"-c", m.Value})
		}
	case "subsystem":
		var m stringMsg
		if !ss.started && ssh.Unmarshal(r.Payload, &m) == nil && m.Value == "sftp" {
			done = ss.sftp(ctx)
		}
	case "signal":
		var m stringMsg
		if ss.pgid != 0 && ssh.Unmarshal(r.Payload, &m) == nil {
			ok = ss.signal(m.Value)
		}
	}
	if done != nil {
		ss.started, ok = true, true
	}
	if r.WantReply {
		_ = r.Reply(ok, nil)
	}
	return done
}

// resize records the terminal's size, and applies it once it runs.
func (ss *session) resize(cols, rows uint32) {
	if cols == 0 || rows == 0 || cols > 0xffff || rows > 0xffff {
		return
	}
	ss.size = unix.Winsize{Col: uint16(cols), Row: uint16(rows)}
	if ss.ptmx != nil {
		if err := setTerminalSize(ss.ptmx, &ss.size); err != nil {
			ss.log.Info("ssh window change failed", "err", err)
		}
	}
}

// exit tells the client the output has ended and how the work ended, and
// closes the channel.
func (ss *session) exit(res result) {
	_ = ss.ch.CloseWrite()
	if res.signal != "" {
		_, _ = ss.ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
			Signal      string
			CoreDumped  bool
			Message     string
			LanguageTag string
		}{Signal: res.signal}))
	} else {
		_, _ = ss.ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(res.code)}))
	}
	ss.ch.Close()
}
