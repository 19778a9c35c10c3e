package rest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// seen is one request the fake slurmrestd got.
type seen struct {
	Method, Path, Query, User, Token, ContentType string
	Body                                          map[string]any
}

// fake is a slurmrestd answering from fixtures in testdata: routes maps
// "METHOD /path" to a status and a fixture file ("" for an empty body).
type fake struct {
	t      *testing.T
	mu     sync.Mutex
	routes map[string]route
	got    []seen
}

type route struct {
	status  int
	fixture string
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, User: r.Header.Get("X-SLURM-USER-NAME"),
		Token: r.Header.Get("X-SLURM-USER-TOKEN"), ContentType: r.Header.Get("Content-Type")}
	if b, _ := io.ReadAll(r.Body); len(b) > 0 {
		if err := json.Unmarshal(b, &s.Body); err != nil {
			f.t.Errorf("%s %s: body is not JSON: %v", r.Method, r.URL.Path, err)
		}
	}
	f.got = append(f.got, s)
	rt, ok := f.routes[r.Method+" "+r.URL.Path]
	if !ok {
		http.Error(w, "Unable find requested URL", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rt.status)
	if rt.fixture != "" {
		b, err := os.ReadFile(filepath.Join("testdata", rt.fixture))
		if err != nil {
			f.t.Fatal(err)
		}
		_, _ = w.Write(b)
	}
}

func (f *fake) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.got...)
}

// testKey is the HS256 key the tests sign with.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// writeKey writes key to a file the checks accept (0600, ours).
func writeKey(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "jwt_hs256.key")
	if err := os.WriteFile(p, testKey, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testNow is the fixed time of the tests: 10 minutes after job 101 started.
var testNow = time.Unix(1700000600, 0)

// newFake starts a fake slurmrestd with routes and a Client for it acting
// as root; POSIX users are alice (2001) and root.
func newFake(t *testing.T, routes map[string]route) (*Client, *fake) {
	t.Helper()
	f := &fake{t: t, routes: routes}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New(Config{URL: srv.URL, KeyFile: writeKey(t), User: "root", Env: map[string]string{"SITE": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return testNow }
	c.lookupUser = func(name string) (*user.User, error) {
		switch name {
		case "alice":
			return &user.User{Username: "alice", Uid: "2001", Gid: "2001", HomeDir: "/home/alice"}, nil
		case "toor":
			return &user.User{Username: "toor", Uid: "0", Gid: "0", HomeDir: "/root"}, nil
		}
		return nil, user.UnknownUserError(name)
	}
	return c, f
}

// wantOne checks the fake got exactly the given "METHOD /path" requests.
func wantCalls(t *testing.T, f *fake, want ...string) []seen {
	t.Helper()
	got := f.requests()
	var names []string
	for _, s := range got {
		names = append(names, s.Method+" "+s.Path)
	}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("requests %v, want %v", names, want)
	}
	return got
}
