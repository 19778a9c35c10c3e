package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Settings are one user's WebUI preferences.
type Settings struct {
	// LaunchShortcut is the key chord that opens the Launch JupyterLab
	// dialog, such as "Alt+Shift+J"; "" turns it off.
	LaunchShortcut string
}

// UserSettings returns the settings a user saved, or ErrNotFound when the
// user never saved any.
func (s *Store) UserSettings(ctx context.Context, userID int64) (*Settings, error) {
	var st Settings
	err := s.db.QueryRowContext(ctx, "SELECT launch_shortcut FROM settings WHERE user_id=?", userID).Scan(&st.LaunchShortcut)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read settings of user %d: %w", userID, err)
	}
	return &st, nil
}

// SetUserSettings saves a user's settings, replacing those saved before.
func (s *Store) SetUserSettings(ctx context.Context, userID int64, st Settings) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO settings(user_id, launch_shortcut) VALUES(?,?)
		ON CONFLICT(user_id) DO UPDATE SET launch_shortcut=excluded.launch_shortcut`, userID, st.LaunchShortcut)
	if err != nil {
		return fmt.Errorf("save settings of user %d: %w", userID, err)
	}
	return nil
}
