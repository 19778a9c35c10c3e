package siteconfig

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultAuditRetention is how long the audit trail keeps an entry when
// the site config sets no audit_retention: 365 days.
const DefaultAuditRetention = 365 * 24 * time.Hour

// checkAuditRetention parses audit_retention (days such as "365d", or a
// Go duration such as "2160h"; the default when unset) into
// AuditRetentionPeriod. The trail is pruned once a day, so less than a
// day is refused.
func (c *Config) checkAuditRetention() error {
	if c.AuditRetention == "" {
		c.AuditRetentionPeriod = DefaultAuditRetention
		return nil
	}
	d, err := parseRetention(c.AuditRetention)
	if err != nil || d < 24*time.Hour {
		return fmt.Errorf("audit_retention: %q is not a time of a day or more (e.g. 365d or 2160h)", c.AuditRetention)
	}
	c.AuditRetentionPeriod = d
	return nil
}

// parseRetention reads a whole number of days ("90d") or a Go duration.
func parseRetention(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
