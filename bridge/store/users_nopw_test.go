package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestUserWithoutPassword: a remote user (made on a munge login) has no
// password that logs in; once given one it is local, and becomes remote
// again only when asked, which revokes the password's sessions.
func TestUserWithoutPassword(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	u, err := s.CreateUserWithoutPassword(ctx, "carol", false)
	if err != nil || !u.Remote {
		t.Fatalf("%v %+v", err, u)
	}
	for _, pw := range []Password{Plain(""), Plain("!"), Plain("x"), {Hashed: true}, {Text: hashOf("x"), Hashed: true}} {
		if _, _, err := s.Login(ctx, "carol", pw, time.Hour); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("login with %+v: %v", pw, err)
		}
	}
	local := false
	if _, err := s.PatchUser(ctx, u.ID, UserPatch{Remote: &local}); !errors.Is(err, ErrNeedsPassword) {
		t.Fatalf("local without a password: %v", err)
	}
	pw := Plain("a-new-passw0rd")
	if u, err = s.PatchUser(ctx, u.ID, UserPatch{Password: &pw}); err != nil || u.Remote {
		t.Fatalf("first password: %v %+v", err, u)
	}
	tok, _, err := s.Login(ctx, "carol", pw, time.Hour)
	if err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	remote := true
	if _, err := s.PatchUser(ctx, u.ID, UserPatch{Remote: &remote, Password: &pw}); !errors.Is(err, ErrRemoteWithPassword) {
		t.Fatalf("remote with a password: %v", err)
	}
	if u, err = s.PatchUser(ctx, u.ID, UserPatch{Remote: &remote}); err != nil || !u.Remote {
		t.Fatalf("remote again: %v %+v", err, u)
	}
	if _, err := s.UserByToken(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Errorf("a password session outlived the password: %v", err)
	}
	if _, _, err := s.Login(ctx, "carol", pw, time.Hour); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("the old password of a remote user: %v", err)
	}
}
