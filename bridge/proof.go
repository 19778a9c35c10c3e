package bridge

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/det-slurm/bridge/bridge/api"
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
	nonce := randomHex(api.ProofNonceMin / 2)
	if _, err := io.WriteString(c, api.ProofPreamble+nonce+"\n"); err != nil {
		return fmt.Errorf("ask %s for its proof: %w", addr, err)
	}
	want := api.ProofAnswer(key, taskID, port, nonce)
	line, err := bufio.NewReader(io.LimitReader(c, int64(len(want))+2)).ReadString('\n')
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
