package sshd

import (
	"context"

	"github.com/pkg/sftp"
)

// sftp serves the sftp subsystem on the session's channel, in this
// process, as its user: paths are the user's own view of the files,
// relative ones taken from the working folder. It returns nil if the
// server could not be made. The channel is closed when ctx ends.
func (ss *session) sftp(ctx context.Context) <-chan result {
	rwc := activeConn{ss.ch, ss.srv.cfg.Activity}
	var opts []sftp.ServerOption
	if ss.srv.cfg.Dir != "" {
		opts = append(opts, sftp.WithServerWorkingDirectory(ss.srv.cfg.Dir))
	}
	srv, err := sftp.NewServer(rwc, opts...)
	if err != nil {
		ss.log.Warn("ssh sftp subsystem did not start", "err", err)
		return nil
	}
	ss.log.Info("ssh sftp subsystem started")
	done := make(chan result, 1)
	go func() {
		stop := context.AfterFunc(ctx, func() { srv.Close() })
		defer stop()
		err := srv.Serve()
		code := 0
		if err != nil {
			code = 1
			ss.log.Info("ssh sftp subsystem ended", "err", err)
		}
		done <- result{code: code}
	}()
	return done
}
