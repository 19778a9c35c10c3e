package rest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestReadKeyChecks(t *testing.T) {
	good := writeKey(t)
	if k, err := ReadKey(good); err != nil || string(k) != string(testKey) {
		t.Fatalf("good key: %q, %v", k, err)
	}
	dir := t.TempDir()
	link := filepath.Join(dir, "link.key")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	groupReadable := filepath.Join(dir, "group.key")
	if err := os.WriteFile(groupReadable, testKey, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(groupReadable, 0o640); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.key")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short.key")
	if err := os.WriteFile(short, []byte("tiny"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		link:                              "symbolic link",
		groupReadable:                     "group or other may access it (mode 0640)",
		fifo:                              "not a regular file",
		short:                             "too short",
		filepath.Join(dir, "missing.key"): "no such file",
		"":                                "no key file given",
	}
	if os.Geteuid() == 0 {
		// Running as root: a key owned by someone else is refused.
		other := filepath.Join(dir, "other.key")
		if err := os.WriteFile(other, testKey, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(other, 2001, 2001); err != nil {
			t.Fatal(err)
		}
		cases[other] = "owned by uid 2001, not 0"
	}
	for path, want := range cases {
		_, err := ReadKey(path)
		if err == nil || !strings.Contains(err.Error(), want) || (path != "" && !strings.Contains(err.Error(), filepath.Base(path))) {
			t.Errorf("ReadKey(%q) = %v, want an error naming the file and saying %q", path, err, want)
		}
	}
}

// verify checks a token with the key and returns its claims.
func verify(t *testing.T, tok string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return testKey, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return testNow }))
	if err != nil {
		t.Fatalf("token does not verify with the key: %v", err)
	}
	return claims
}

func TestTokensCachedPerUser(t *testing.T) {
	tk := newTokens(testKey)
	a1, _ := tk.token("alice", testNow)
	c := verify(t, a1)
	if c["sun"] != "alice" || c["iat"].(float64) != float64(testNow.Unix()) || c["exp"].(float64) != float64(testNow.Add(5*time.Minute).Unix()) {
		t.Fatalf("claims %v", c)
	}
	if a2, _ := tk.token("alice", testNow.Add(3*time.Minute)); a2 != a1 {
		t.Error("a token with 2 minutes left was not reused")
	}
	if a3, _ := tk.token("alice", testNow.Add(4*time.Minute+time.Second)); a3 == a1 {
		t.Error("a token with less than a minute left was reused")
	}
	if b, _ := tk.token("bob", testNow); b == a1 || verify(t, b)["sun"] != "bob" {
		t.Error("bob got alice's token")
	}
}
