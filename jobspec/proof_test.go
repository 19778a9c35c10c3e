package jobspec

import "testing"

// TestProofAnswer pins the proof's format (computed apart from this code:
// HMAC-SHA256 of "det-proof\n<task>\n<port>\n<nonce>"), so the bridge and a
// launcher of another build agree.
func TestProofAnswer(t *testing.T) {
	nonce := "0123456789abcdef0123456789abcdef"
	const want = "71ea1230e699e4b527bc8129f223e7f38662b5895bd16c5227ced1033c280892"
	if got := ProofAnswer("key-1", "task-1", 4242, nonce); got != want {
		t.Fatalf("ProofAnswer = %s, want %s", got, want)
	}
	for _, other := range []string{
		ProofAnswer("key-2", "task-1", 4242, nonce),
		ProofAnswer("key-1", "task-2", 4242, nonce),
		ProofAnswer("key-1", "task-1", 4243, nonce),
		ProofAnswer("key-1", "task-1", 4242, "f"+nonce[1:]),
	} {
		if other == want {
			t.Error("a different key, task, port or nonce gave the same answer")
		}
	}
}

func TestValidProofNonce(t *testing.T) {
	for s, want := range map[string]bool{
		"0123456789abcdef0123456789abcdef": true,
		"0123456789abcdef":                 false, // too short
		"0123456789ABCDEF0123456789ABCDEF": false, // upper case
		"0123456789abcdef0123456789abcdeg": false,
		string(make([]byte, 130)):          false,
	} {
		if got := ValidProofNonce(s); got != want {
			t.Errorf("ValidProofNonce(%q) = %v", s, got)
		}
	}
}
