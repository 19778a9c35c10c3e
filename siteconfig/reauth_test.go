package siteconfig

import (
	"strings"
	"testing"
	"time"
)

// TestPasswordChangeLoginWithin: 5 minutes unless set; a Go duration from
// 10s to 24h; anything else is refused naming the field.
func TestPasswordChangeLoginWithin(t *testing.T) {
	c, err := Parse([]byte(good), "/x")
	if err != nil || c.PasswordChangeWindow != 5*time.Minute {
		t.Fatalf("default: %v %v", c.PasswordChangeWindow, err)
	}
	for v, want := range map[string]time.Duration{"15s": 15 * time.Second, "10m": 10 * time.Minute, "24h": 24 * time.Hour} {
		c, err := Parse([]byte(good+"password_change_login_within: "+v+"\n"), "/x")
		if err != nil || c.PasswordChangeWindow != want {
			t.Errorf("%s: %v %v, want %s", v, c.PasswordChangeWindow, err, want)
		}
	}
	for _, v := range []string{"5", "9s", "25h", "-1m", "soon"} {
		_, err := Parse([]byte(good+"password_change_login_within: \""+v+"\"\n"), "/x")
		if err == nil || !strings.HasPrefix(err.Error(), "password_change_login_within: \""+v+"\"") {
			t.Errorf("%s: %v, want an error naming password_change_login_within", v, err)
		}
	}
}
