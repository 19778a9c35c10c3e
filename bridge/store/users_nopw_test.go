package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestUserWithoutPassword: a user made on a munge login has no password
// that logs in, and sets one without a current one; after that the usual
// rules hold.
func TestUserWithoutPassword(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.CreateUserWithoutPassword(ctx, "carol"); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"", "!", "x"} {
		if _, _, err := s.Login(ctx, "carol", pw, time.Hour); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("login with %q: %v", pw, err)
		}
	}
	if err := s.ChangePassword(ctx, "carol", "", "a-new-passw0rd", ""); err != nil {
		t.Fatalf("first password: %v", err)
	}
	if _, _, err := s.Login(ctx, "carol", "a-new-passw0rd", time.Hour); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	if err := s.ChangePassword(ctx, "carol", "", "another-passw0rd", ""); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("a second change without the current password: %v", err)
	}
}
