package siteconfig

import (
	"strings"
	"testing"
	"time"
)

// TestAuditRetention: 365 days unless set; days or a Go duration of a day
// or more; anything else is refused naming the field.
func TestAuditRetention(t *testing.T) {
	c, err := Parse([]byte(good), "/x")
	if err != nil || c.AuditRetentionPeriod != DefaultAuditRetention || DefaultAuditRetention != 365*24*time.Hour {
		t.Fatalf("default: %v %v", c, err)
	}
	for v, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "2160h": 2160 * time.Hour, "24h": 24 * time.Hour} {
		c, err := Parse([]byte(good+"audit_retention: "+v+"\n"), "/x")
		if err != nil || c.AuditRetentionPeriod != want {
			t.Errorf("%s: %v %v, want %s", v, c.AuditRetentionPeriod, err, want)
		}
	}
	for _, v := range []string{"forever", "1h", "0d", "-5d", "1.5d", "0", "d"} {
		_, err := Parse([]byte(good+"audit_retention: \""+v+"\"\n"), "/x")
		if err == nil || !strings.HasPrefix(err.Error(), "audit_retention: \""+v+"\"") {
			t.Errorf("%s: %v, want an error naming audit_retention", v, err)
		}
	}
}
