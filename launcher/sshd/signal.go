package sshd

import "syscall"

// signals are the signals RFC 4254 names, by their names there.
var signals = map[string]syscall.Signal{
	"ABRT": syscall.SIGABRT, "ALRM": syscall.SIGALRM, "FPE": syscall.SIGFPE,
	"HUP": syscall.SIGHUP, "ILL": syscall.SIGILL, "INT": syscall.SIGINT,
	"KILL": syscall.SIGKILL, "PIPE": syscall.SIGPIPE, "QUIT": syscall.SIGQUIT,
	"SEGV": syscall.SIGSEGV, "TERM": syscall.SIGTERM, "USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2,
}

// signalName is sig's RFC 4254 name, or "" if it has none.
func signalName(sig syscall.Signal) string {
	for name, s := range signals {
		if s == sig {
			return name
		}
	}
	return ""
}

// signal sends the named signal, on the client's request, to the
// session's command's process group; it says whether it was sent.
func (ss *session) signal(name string) bool {
	sig, ok := signals[name]
	if !ok {
		return false
	}
	return syscall.Kill(-ss.pgid, sig) == nil
}
