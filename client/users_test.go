package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
)

// stubUsers is a bridge that knows alice (id 1, password "old-pw") and
// records the logins, patches and logouts it gets.
type stubUsers struct {
	logins  []api.LoginRequest
	patches map[string]api.PatchUser
	logouts []string
}

func (st *stubUsers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	alice := api.User{ID: 1, Username: "alice", Active: true}
	switch {
	case r.URL.Path == "/api/v1/auth/login":
		var req api.LoginRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		st.logins = append(st.logins, req)
		if req.Username != "alice" || req.Password != "old-pw" {
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(api.NewError(http.StatusUnauthorized, "invalid credentials"))
			return
		}
		_ = json.NewEncoder(w).Encode(api.LoginResponse{Token: "check", User: alice})
	case r.URL.Path == "/api/v1/auth/logout":
		st.logouts = append(st.logouts, r.Header.Get("Authorization"))
		_, _ = w.Write([]byte("{}"))
	case r.URL.Path == "/api/v1/users/alice/by-username":
		_ = json.NewEncoder(w).Encode(api.UserResponse{User: alice})
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/api/v1/users/"):
		var req api.PatchUser
		_ = json.NewDecoder(r.Body).Decode(&req)
		st.patches[r.URL.Path+" "+r.Header.Get("Authorization")] = req
		_ = json.NewEncoder(w).Encode(api.UserResponse{User: alice})
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// TestChangeOwnPassword: the current password is checked by logging in
// with it (as given, not hashed); the user is patched with that fresh
// login's token, which the client then takes (the change ends every other
// session, the client's old one too); a wrong current password changes
// nothing. ChangePassword without the old one checks nothing.
func TestChangeOwnPassword(t *testing.T) {
	st := &stubUsers{patches: map[string]api.PatchUser{}}
	srv := httptest.NewServer(st)
	defer srv.Close()
	c := New(srv.URL, "mine")
	tok, err := c.ChangeOwnPassword(context.Background(), "alice", "old-pw", "new-pw")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := st.patches["/api/v1/users/1 Bearer check"]
	if len(st.logins) != 1 || st.logins[0].IsHashed || !ok || p.Password == nil || *p.Password != "new-pw" || p.IsHashed {
		t.Errorf("logins %+v, patches %+v", st.logins, st.patches)
	}
	if len(st.logouts) != 0 || tok != "check" || c.Token != "check" {
		t.Errorf("logouts %v, returned %q, client's token %q", st.logouts, tok, c.Token)
	}
	c.Token = "mine"

	st.logins, st.patches, st.logouts = nil, map[string]api.PatchUser{}, nil
	_, err = c.ChangeOwnPassword(context.Background(), "alice", "wrong", "new-pw")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden || !strings.Contains(ae.Message, "current password is wrong") || len(st.patches) != 0 {
		t.Errorf("a wrong current password: %v, patches %v", err, st.patches)
	}

	st.logins = nil
	if err := c.ChangePassword(context.Background(), "alice", "", "reset-pw"); err != nil || len(st.logins) != 0 || *st.patches["/api/v1/users/1 Bearer mine"].Password != "reset-pw" {
		t.Errorf("a reset: %v, logins %v, patches %v", err, st.logins, st.patches)
	}
}
