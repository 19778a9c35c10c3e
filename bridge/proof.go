package bridge

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/det-slurm/bridge/jobspec"
)

// proofTimeout bounds the whole check of a notebook's port: connect, ask,
// answer.
const proofTimeout = 2 * time.Second

// errProofWrong means the server on the port answered, but not with the
// task's proof: it is not the task's launcher.
var errProofWrong = errors.New("the server on that port is not the task's launcher (wrong proof)")

// checkProof asks the server at host:port to prove that it holds the
// task's proof key (api.ProofAnswer over a fresh nonce), so the bridge
// never routes a notebook, and never sends its Jupyter token, to a port
// some other process took. It returns nil for the right answer,
// errProofWrong for any other answer, and another error when the server
// could not be reached or did not answer within proofTimeout.
func checkProof(ctx context.Context, host string, port int, taskID, key string) error {
	ctx, cancel := context.WithTimeout(ctx, proofTimeout)
	defer cancel()
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	return proveConn(c, taskID, key, port)
}

// proveConn asks the launcher at the other end of c for its proof over a
// fresh nonce and checks it: errProofWrong for a wrong answer, another
// error when none came. It reads no byte past the answer's line, so the
// connection can carry HTTP afterwards (the launcher splices it on to
// Jupyter once it has answered).
func proveConn(c net.Conn, taskID, key string, port int) error {
	addr := c.RemoteAddr().String()
	nonce := randomHex(jobspec.ProofNonceMin / 2)
	if _, err := io.WriteString(c, jobspec.ProofPreamble+nonce+"\n"); err != nil {
		return fmt.Errorf("ask %s for its proof: %w", addr, err)
	}
	want := jobspec.ProofAnswer(key, taskID, port, nonce)
	line, err := readLine(c, len(want)+2)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("no answer from %s within %s: %w", addr, proofTimeout, err)
	case err != nil && line == "" && !errors.Is(err, io.EOF):
		return fmt.Errorf("read the proof from %s: %w", addr, err)
	}
	got := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if err != nil || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errProofWrong
	}
	return nil
}

// readLine reads up to and including '\n', at most max bytes, one byte at a
// time so that nothing after the line is consumed.
func readLine(r io.Reader, max int) (string, error) {
	var b strings.Builder
	one := make([]byte, 1)
	for b.Len() < max {
		n, err := r.Read(one)
		if n == 1 {
			b.WriteByte(one[0])
			if one[0] == '\n' {
				return b.String(), nil
			}
		}
		if err != nil {
			return b.String(), err
		}
	}
	return b.String(), errProofWrong
}

// routeProof is the proxy's check of every new connection to a task's
// notebook port (proxy.Route.Prove); nil for a task without a proof key.
func routeProof(taskID, key string, port int) func(net.Conn) error {
	if key == "" {
		return nil
	}
	return func(c net.Conn) error {
		_ = c.SetDeadline(time.Now().Add(proofTimeout))
		err := proveConn(c, taskID, key, port)
		_ = c.SetDeadline(time.Time{})
		return err
	}
}
