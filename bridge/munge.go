package bridge

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/det-slurm/bridge/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

var mungeUID = regexp.MustCompile(`(?m)^UID:\s+(\S+)\s+\((\d+)\)`)

// unmunge decodes a credential with the site's unmunge and returns the
// POSIX user it proves. munged refuses a credential it has seen before.
func (s *Server) unmunge(ctx context.Context, cred string) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.cfg.UnmungePath)
	cmd.Stdin = strings.NewReader(cred)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", 0, fmt.Errorf("credential refused: %s", strings.TrimSpace(strings.TrimPrefix(errOut.String(), "unmunge: Error: ")))
	}
	m := mungeUID.FindStringSubmatch(out.String())
	if m == nil {
		return "", 0, errors.New("credential carries no UID")
	}
	uid, _ := strconv.Atoi(m[2])
	return m[1], uid, nil
}

// handleMungeLogin logs in the POSIX user a munge credential proves, as
// the bridge user linked to it (created and linked on first use when the
// site allows).
func (s *Server) handleMungeLogin(w http.ResponseWriter, r *http.Request) {
	var req api.MungeLoginRequest
	if !readJSON(w, r, &req) {
		return
	}
	if s.limiter.blocked(w, r, "munge") {
		return
	}
	name, uid, err := s.unmunge(r.Context(), req.Credential)
	if err != nil {
		s.limiter.failed(r, "munge")
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	if uid == 0 {
		writeError(w, http.StatusForbidden, "root may not log in with munge; use `det user login`")
		return
	}
	u, err := s.store.UserByAgent(r.Context(), uid, name)
	if errors.Is(err, store.ErrNotFound) && s.cfg.MungeAutoCreate {
		u, err = s.createLinked(r.Context(), name, uid)
	}
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusForbidden, fmt.Sprintf("no bridge user is linked to POSIX user %s; an admin must run `det user link-with-agent-user NAME --agent-user %s`", name, name))
		return
	}
	if err != nil {
		s.internal(w, "munge login", err)
		return
	}
	if !u.Active {
		writeError(w, http.StatusForbidden, "user "+u.Username+" is deactivated")
		return
	}
	tok, err := s.store.NewToken(r.Context(), u.ID, "", tokenTTL)
	if err != nil {
		s.internal(w, "munge login", err)
		return
	}
	writeJSON(w, http.StatusOK, api.LoginResponse{Token: tok})
}

// createLinked makes a bridge user for a POSIX account, linked to it, with
// a random password nobody knows (it logs in with munge).
func (s *Server) createLinked(ctx context.Context, name string, uid int) (*store.User, error) {
	if _, err := s.store.UserByName(ctx, name); err == nil {
		return nil, fmt.Errorf("bridge user %s exists but is linked to another POSIX account: %w", name, store.ErrNotFound)
	}
	pw := make([]byte, 24)
	_, _ = rand.Read(pw)
	if _, err := s.store.CreateUser(ctx, name, hex.EncodeToString(pw), false); err != nil {
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
