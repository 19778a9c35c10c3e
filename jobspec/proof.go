package jobspec

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// The proof exchange lets the bridge check, before it routes a notebook,
// that the server on the reported port is the task's own launcher: the
// bridge opens a TCP connection and sends ProofPreamble, a fresh random
// nonce in hex and "\n"; the launcher answers ProofAnswer in hex and "\n",
// and closes. The key travels only in task.json (mode 0600), never over
// the network.
const (
	ProofPreamble = "DET-PROOF "
	// ProofNonceMin and ProofNonceMax bound the nonce's length in hex
	// digits.
	ProofNonceMin = 32
	ProofNonceMax = 128
)

// ProofAnswer is HMAC-SHA256 under key of the task id, the port the
// launcher holds and the nonce, in hex. The port is in it so that a
// listener elsewhere cannot relay the bridge's question to the real
// launcher and pass its answer off as its own.
func ProofAnswer(key, taskID string, port int, nonce string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("det-proof\n" + taskID + "\n" + strconv.Itoa(port) + "\n" + nonce))
	return hex.EncodeToString(m.Sum(nil))
}

// ValidProofNonce reports whether s is a nonce the launcher answers: hex
// digits, between ProofNonceMin and ProofNonceMax of them.
func ValidProofNonce(s string) bool {
	if len(s) < ProofNonceMin || len(s) > ProofNonceMax {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
