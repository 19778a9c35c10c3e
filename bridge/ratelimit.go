package bridge

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// loginLimiter slows down password guessing: after 5 failed logins in a
// row for one user name, or 100 from one address (many users share a login
// node's address), further attempts are refused for a lockout that doubles
// with each further failure, up to 15 minutes. A record is forgotten 15
// minutes after its last failure.
type loginLimiter struct {
	mu sync.Mutex
	m  map[string]*failures
}

type failures struct {
	count int
	last  time.Time
	until time.Time
}

const (
	maxUserFailures = 5
	maxAddrFailures = 100
	forgetAfter     = 15 * time.Minute
)

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func limiterKeys(r *http.Request, user string) []string {
	return []string{"user:" + user, "addr:" + clientAddr(r)}
}

// blocked answers 429 and reports true while user or address is locked out.
func (l *loginLimiter) blocked(w http.ResponseWriter, r *http.Request, user string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	for _, k := range limiterKeys(r, user) {
		if f := l.m[k]; f != nil && now.Before(f.until) {
			wait := f.until.Sub(now).Round(time.Second) + time.Second
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
			writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many failed logins; try again in %s", wait))
			return true
		}
	}
	return false
}

func (l *loginLimiter) failed(r *http.Request, user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*failures{}
	}
	now := time.Now()
	for i, k := range limiterKeys(r, user) {
		f := l.m[k]
		if f == nil || now.Sub(f.last) > forgetAfter {
			f = &failures{}
			l.m[k] = f
		}
		f.count++
		f.last = now
		limit := maxUserFailures
		if i == 1 {
			limit = maxAddrFailures
		}
		if f.count >= limit {
			lock := min(time.Duration(1<<min(f.count-limit, 10))*30*time.Second, 15*time.Minute)
			f.until = now.Add(lock)
		}
	}
}

// succeeded clears the user's record (not the address's: one right
// password must not unlock guessing at other accounts).
func (l *loginLimiter) succeeded(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, "user:"+user)
}
