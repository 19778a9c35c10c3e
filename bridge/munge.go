package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

const (
	// mungeMaxAge is how old a credential may be when it logs in: det makes
	// it just before it asks, so a minute allows for a slow host and leaves
	// a leaked one little use (munge's own TTL is five minutes).
	mungeMaxAge = 60 * time.Second
	// mungeSkew is how far in the future a credential's encode time may be
	// (the clocks of the login node and of the bridge's host differ).
	mungeSkew = 5 * time.Second
)

// mungeCred is what unmunge reports of a valid credential.
type mungeCred struct {
	user    string
	uid     int
	encoded time.Time
	decoded time.Time
	payload string
}

var (
	unmungeField = regexp.MustCompile(`^([A-Z_]+):\s+(.*)$`)
	unmungeID    = regexp.MustCompile(`^(\S+) \((\d+)\)$`)
	unmungeTime  = regexp.MustCompile(`\((\d+)\)$`)
)

// parseUnmunge reads unmunge's output: "KEY: value" lines, a blank line,
// then the payload, exactly LENGTH bytes. Only the lines before the blank
// one are read as fields, so a payload cannot pose as one.
func parseUnmunge(out []byte) (*mungeCred, error) {
	head, payload, ok := bytes.Cut(out, []byte("\n\n"))
	if !ok {
		return nil, errors.New("unmunge's output has no payload section")
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(head), "\n") {
		if m := unmungeField.FindStringSubmatch(line); m != nil {
			fields[m[1]] = strings.TrimSpace(m[2])
		}
	}
	if st := fields["STATUS"]; st != "Success (0)" {
		return nil, fmt.Errorf("credential refused: %s", st)
	}
	id := unmungeID.FindStringSubmatch(fields["UID"])
	if id == nil {
		return nil, errors.New("credential carries no UID")
	}
	c := &mungeCred{user: id[1], payload: string(payload)}
	c.uid, _ = strconv.Atoi(id[2])
	for _, t := range []struct {
		field string
		to    *time.Time
	}{{"ENCODE_TIME", &c.encoded}, {"DECODE_TIME", &c.decoded}} {
		m := unmungeTime.FindStringSubmatch(fields[t.field])
		if m == nil {
			return nil, fmt.Errorf("credential carries no %s", t.field)
		}
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		*t.to = time.Unix(sec, 0)
	}
	if n, err := strconv.Atoi(fields["LENGTH"]); err != nil || n != len(payload) {
		return nil, fmt.Errorf("credential payload is %d bytes, unmunge says %q", len(payload), fields["LENGTH"])
	}
	return c, nil
}

// runUnmunge decodes a credential with the site's unmunge (or the
// Server's decodeMunge hook) and returns unmunge's output. munged refuses
// a credential it has seen before.
func (s *Server) runUnmunge(ctx context.Context, cred string) ([]byte, error) {
	if s.decodeMunge != nil {
		return s.decodeMunge(ctx, cred)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.cfg.UnmungePath)
	cmd.Stdin = strings.NewReader(cred)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(strings.TrimPrefix(errOut.String(), "unmunge: Error: "))
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("credential refused: %s", msg)
	}
	return out.Bytes(), nil
}

// mungeAudiences are the payloads a credential meant for this bridge may
// carry: det's MungePayload of the bridge's external and callback URLs.
func (s *Server) mungeAudiences() []string {
	return []string{api.MungePayload(s.cfg.ExternalURL), api.MungePayload(s.cfg.CallbackURL)}
}

// checkMungeCred says why a decoded credential may not log in to this
// bridge ("" when it may): it must be fresh and name this bridge.
func (s *Server) checkMungeCred(c *mungeCred) string {
	age := c.decoded.Sub(c.encoded)
	if age > mungeMaxAge || age < -mungeSkew {
		return fmt.Sprintf("the munge credential was made %s before it reached the bridge; a login takes one at most %s old: run det again", age.Round(time.Second), mungeMaxAge)
	}
	for _, a := range s.mungeAudiences() {
		if c.payload == a {
			return ""
		}
	}
	if c.payload == "" {
		return "the munge credential names no service (it was made by `munge -n`, not by det for this bridge); use an up-to-date det, or log in with `det user login`"
	}
	shown := c.payload
	if len(shown) > 120 {
		shown = shown[:120] + "..."
	}
	return fmt.Sprintf("the munge credential is meant for %q, not for this bridge (%s); point det at %s (-m or DET_MASTER)", shown, api.CanonicalMaster(s.cfg.ExternalURL), s.cfg.ExternalURL)
}

// handleMungeLogin logs in the POSIX user a munge credential proves, as
// the one bridge user linked to it (created and linked on first use when
// the site allows). Failures count against the address until the
// credential decodes, then against the uid it proves. Logins, failures
// and refusals go to the audit trail; failures the limit does not count
// are recorded once a minute per uid and reason.
func (s *Server) handleMungeLogin(w http.ResponseWriter, r *http.Request) {
	if !s.loginOrigin(w, r) {
		return
	}
	var req api.MungeLoginRequest
	if !readJSON(w, r, &req) {
		return
	}
	addrKey := mungeAddrKey(r)
	if by := s.limiter.blocked(w, addrKey); by != "" {
		s.metrics.LoginRateLimited()
		s.auditRefused(r, "", by)
		return
	}
	out, err := s.runUnmunge(r.Context(), req.Credential)
	var cred *mungeCred
	if err == nil {
		cred, err = parseUnmunge(out)
	}
	if err != nil {
		s.limiter.failed(addrKey)
		s.metrics.LoginFailed()
		s.auditRequest(r, api.AuditLoginFailed, "", "", "munge: "+err.Error())
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	uidKey := mungeUIDKey(cred.uid)
	if by := s.limiter.blocked(w, uidKey); by != "" {
		s.metrics.LoginRateLimited()
		s.auditRefused(r, "", by)
		return
	}
	who := fmt.Sprintf("munge: POSIX user %s (uid %d)", cred.user, cred.uid)
	if msg := s.checkMungeCred(cred); msg != "" {
		s.limiter.failed(uidKey)
		s.metrics.LoginFailed()
		s.auditRequest(r, api.AuditLoginFailed, "", "", who+": "+msg)
		writeError(w, http.StatusUnauthorized, msg)
		return
	}
	// refuse answers 403 with msg; the trail has why, for actor.
	refuse := func(actor, why, msg string) {
		if s.refusals.first(fmt.Sprintf("munge-uid:%d\x00%s", cred.uid, why)) {
			s.auditRequest(r, api.AuditLoginFailed, actor, "", who+": "+why)
		}
		writeError(w, http.StatusForbidden, msg)
	}
	if reason := s.refuseAccount(cred.user, cred.uid); reason != "" {
		refuse("", reason, reason+"; munge logins are for people's accounts (use `det user login`)")
		return
	}
	u, err := s.store.UserByAgent(r.Context(), cred.uid, cred.user)
	if errors.Is(err, store.ErrNotFound) && s.cfg.MungeAutoCreate {
		if u, err = s.createLinked(r.Context(), cred.user, cred.uid); err == nil {
			s.auditRequest(r, api.AuditUserCreate, "", u.Username, fmt.Sprintf("agentUserGroup (linked on the first munge login of POSIX user %s, uid %d)", cred.user, cred.uid))
		}
	}
	var amb *store.AmbiguousAgentError
	switch {
	case errors.As(err, &amb):
		refuse("", "linked to several bridge users", fmt.Sprintf("POSIX user %s (uid %d) is linked to several bridge users (%s), so a munge login cannot tell which one you are; log in with `det user login NAME`, or ask an admin to link %s to one bridge user only",
			cred.user, cred.uid, strings.Join(amb.Users, ", "), cred.user))
		return
	case errors.Is(err, store.ErrNotFound):
		refuse("", "no bridge user is linked", fmt.Sprintf("no bridge user is linked to POSIX user %s; an admin must run `det user link-with-agent-user NAME --agent-user %s`", cred.user, cred.user))
		return
	case err != nil:
		s.internal(w, "munge login", err)
		return
	}
	if !u.Active {
		refuse(u.Username, "the user is deactivated", "user "+u.Username+" is deactivated")
		return
	}
	s.limiter.succeeded(uidKey)
	tok, err := s.store.NewToken(r.Context(), u.ID, "", tokenTTL)
	if err != nil {
		s.internal(w, "munge login", err)
		return
	}
	s.auditRequest(r, api.AuditLogin, u.Username, "", who)
	writeJSON(w, http.StatusOK, api.LoginResponse{Token: tok, User: userAPI(u)})
}

// createLinked makes a bridge user for a POSIX account, linked to it, with
// a random password nobody knows (it logs in with munge). The caller has
// checked the account with refuseAccount.
func (s *Server) createLinked(ctx context.Context, name string, uid int) (*store.User, error) {
	if _, err := s.store.UserByName(ctx, name); err == nil {
		return nil, fmt.Errorf("bridge user %s exists but is linked to another POSIX account: %w", name, store.ErrNotFound)
	}
	if _, err := s.store.CreateUserWithoutPassword(ctx, name, false); err != nil {
		return nil, err
	}
	gid := -1
	if pu, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		gid, _ = strconv.Atoi(pu.Gid)
	}
	if err := s.store.LinkAgent(ctx, name, name, uid, "", gid); err != nil {
		return nil, err
	}
	s.log.Info("created a bridge user for a POSIX user on first munge login", "user", name, "uid", uid)
	return s.store.UserByName(ctx, name)
}
