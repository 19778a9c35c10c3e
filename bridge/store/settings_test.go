package store

import (
	"context"
	"errors"
	"testing"
)

func TestSettings(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	if err := s.EnsureDefaultUsers(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := s.UserByName(ctx, "determined")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserSettings(ctx, u.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("settings before any were saved: %v", err)
	}
	for _, want := range []string{"Ctrl+Alt+K", ""} {
		if err := s.SetUserSettings(ctx, u.ID, Settings{LaunchShortcut: want}); err != nil {
			t.Fatal(err)
		}
		got, err := s.UserSettings(ctx, u.ID)
		if err != nil || got.LaunchShortcut != want {
			t.Fatalf("saved %q, read %+v %v", want, got, err)
		}
	}
	admin, _ := s.UserByName(ctx, "admin")
	if _, err := s.UserSettings(ctx, admin.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another user's settings leaked: %v", err)
	}
}
