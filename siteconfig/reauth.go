package siteconfig

import (
	"fmt"
	"time"
)

// DefaultPasswordChangeLoginWithin is how recent the login behind a token
// must be for that token to change its own user's password, when the site
// config sets no password_change_login_within.
const DefaultPasswordChangeLoginWithin = 5 * time.Minute

// checkPasswordChangeLoginWithin parses password_change_login_within into
// PasswordChangeWindow: a Go duration from 10s to 24h.
func (c *Config) checkPasswordChangeLoginWithin() error {
	if c.PasswordChangeLoginWithin == "" {
		c.PasswordChangeWindow = DefaultPasswordChangeLoginWithin
		return nil
	}
	d, err := time.ParseDuration(c.PasswordChangeLoginWithin)
	if err != nil || d < 10*time.Second || d > 24*time.Hour {
		return fmt.Errorf("password_change_login_within: %q is not a duration from 10s to 24h (e.g. 5m)", c.PasswordChangeLoginWithin)
	}
	c.PasswordChangeWindow = d
	return nil
}
