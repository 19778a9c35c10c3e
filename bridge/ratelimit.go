package bridge

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// loginLimiter slows down guessing: after a number of failures in a row
// under one key (5 for a user name, 100 for an address: many users share
// a login node's address), further attempts under that key are refused for
// a lockout that doubles with each further failure, up to 15 minutes. A
// record is forgotten 15 minutes after its last failure, and then removed,
// so the map holds only the failures of the last 15 minutes (and at most
// maxLimiterEntries records).
//
// Password logins count under the user name and the address; munge logins
// under the address until the credential is decoded and then under the
// POSIX uid it proves, so one user's failures never lock out another's
// munge logins, nor password logins.
type loginLimiter struct {
	mu        sync.Mutex
	m         map[string]*failures
	lastSweep time.Time
	// now is the clock; nil means time.Now.
	now func() time.Time
}

type failures struct {
	count int
	last  time.Time
	until time.Time
}

// limitKey is one count of failures and how many it allows before a
// lockout.
type limitKey struct {
	key string
	max int
}

const (
	maxUserFailures = 5
	maxAddrFailures = 100
	forgetAfter     = 15 * time.Minute
	// maxLimiterEntries bounds the map even under a flood of distinct
	// names or addresses within 15 minutes.
	maxLimiterEntries = 100_000
)

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// passwordKeys are the counts a password attempt for user goes to.
func passwordKeys(r *http.Request, user string) []limitKey {
	return []limitKey{{"user:" + user, maxUserFailures}, {"addr:" + clientAddr(r), maxAddrFailures}}
}

// mungeAddrKey counts munge credentials from an address that do not
// decode.
func mungeAddrKey(r *http.Request) limitKey {
	return limitKey{"munge-addr:" + clientAddr(r), maxAddrFailures}
}

// mungeUIDKey counts refused credentials of one POSIX uid.
func mungeUIDKey(uid int) limitKey {
	return limitKey{"munge-uid:" + strconv.Itoa(uid), maxUserFailures}
}

func (l *loginLimiter) clock() time.Time {
	if l.now != nil {
		return l.now()
	}
	return time.Now()
}

// lockedFor says, for the audit trail, what a key's lockout counts.
func lockedFor(key string) string {
	switch kind, _, _ := strings.Cut(key, ":"); kind {
	case "user":
		return "for this user name"
	case "munge-uid":
		return "with munge credentials of this POSIX uid"
	case "munge-addr":
		return "with munge credentials from this address"
	default:
		return "from this address"
	}
}

// blocked answers 429 and returns the key that is locked out while any
// of keys is; "" when none is.
func (l *loginLimiter) blocked(w http.ResponseWriter, keys ...limitKey) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock()
	l.sweep(now)
	for _, k := range keys {
		if f := l.m[k.key]; f != nil && now.Before(f.until) {
			wait := f.until.Sub(now).Round(time.Second) + time.Second
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
			writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many failed logins; try again in %s", wait))
			return k.key
		}
	}
	return ""
}

// failed counts a failure under each of keys.
func (l *loginLimiter) failed(keys ...limitKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*failures{}
	}
	now := l.clock()
	l.sweep(now)
	for _, k := range keys {
		f := l.m[k.key]
		if f == nil || now.Sub(f.last) > forgetAfter {
			if f == nil && len(l.m) >= maxLimiterEntries {
				l.evict(now)
			}
			f = &failures{}
			l.m[k.key] = f
		}
		f.count++
		f.last = now
		if f.count >= k.max {
			lock := min(time.Duration(1<<min(f.count-k.max, 10))*30*time.Second, 15*time.Minute)
			f.until = now.Add(lock)
		}
	}
}

// succeeded clears one count (a user's or a uid's, never an address's: one
// right password must not unlock guessing at other accounts).
func (l *loginLimiter) succeeded(k limitKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, k.key)
}

// sweep removes, at most once a minute, the records forgotten by now: 15
// minutes after their last failure, which is also past any lockout.
func (l *loginLimiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	for k, f := range l.m {
		if now.Sub(f.last) > forgetAfter && !now.Before(f.until) {
			delete(l.m, k)
		}
	}
}

// evict makes room in a full map: the records not locked out go first
// (a tenth of the map), then, if all are locked out, any.
func (l *loginLimiter) evict(now time.Time) {
	drop := max(len(l.m)/10, 1)
	for _, lockedToo := range []bool{false, true} {
		for k, f := range l.m {
			if drop == 0 {
				return
			}
			if lockedToo || !now.Before(f.until) {
				delete(l.m, k)
				drop--
			}
		}
	}
}

// size is the number of records kept.
func (l *loginLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
