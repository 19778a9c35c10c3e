package api

import (
	"net"
	"net/url"
	"strings"
)

// MungePayload is the payload of a munge credential made to log in to the
// bridge at master (its URL as the user gives it, e.g. DET_MASTER). Naming
// the bridge keeps a credential made for anything else (`munge -n`,
// another service, another bridge) from being replayed at it.
func MungePayload(master string) string {
	return "det-bridge login " + CanonicalMaster(master)
}

// CanonicalMaster is a bridge URL without what does not change the bridge
// it names: case of scheme and host, a default port, a trailing slash.
func CanonicalMaster(master string) string {
	u, err := url.Parse(strings.TrimSpace(master))
	if err != nil || u.Host == "" {
		return strings.TrimSuffix(strings.TrimSpace(master), "/")
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if h, port, err := net.SplitHostPort(host); err == nil && (scheme == "http" && port == "80" || scheme == "https" && port == "443") {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	return scheme + "://" + host + strings.TrimSuffix(u.EscapedPath(), "/")
}
