package bridge

import (
	"errors"
	"net/http"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// handleLogin answers POST /api/v1/auth/login: a password, itself or
// hashed as Determined's clients send it, for a token and the user.
// Failures count against the user name and the address (loginLimiter).
// Logins, failures (under the name tried) and refusals go to the audit
// trail.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !s.loginOrigin(w, r) {
		return
	}
	var req api.LoginRequest
	if !readJSON(w, r, &req) {
		return
	}
	keys := passwordKeys(r, req.Username)
	if by := s.limiter.blocked(w, keys...); by != "" {
		s.metrics.LoginRateLimited()
		s.auditRefused(r, req.Username, by)
		return
	}
	tok, u, err := s.store.Login(r.Context(), req.Username, store.Password{Text: req.Password, Hashed: req.IsHashed}, tokenTTL)
	switch {
	case errors.Is(err, store.ErrBadCredentials), errors.Is(err, store.ErrPasswordLoginNeeded):
		s.limiter.failed(keys...)
		s.metrics.LoginFailed()
		s.auditRequest(r, api.AuditLoginFailed, req.Username, "", loginFailure(err))
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	case errors.Is(err, store.ErrPasswordTooLong), errors.Is(err, store.ErrBadPasswordHash):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.limiter.succeeded(keys[0])
	if err != nil {
		s.internal(w, "login", err)
		return
	}
	s.auditRequest(r, api.AuditLogin, u.Username, "", "password")
	http.SetCookie(w, s.sessionCookie(tok, int(tokenTTL.Seconds())))
	writeJSON(w, http.StatusOK, api.LoginResponse{Token: tok, User: userAPI(u)})
}

// loginFailure is the audit trail's detail of a refused password: what
// the answer says, shortened, and no more (not whether the user exists).
func loginFailure(err error) string {
	if errors.Is(err, store.ErrPasswordLoginNeeded) {
		return "password: a hashed password cannot be checked until the account logs in once with the password itself"
	}
	return "password: " + store.ErrBadCredentials.Error()
}

// handleLogout revokes the request's token and deletes the WebUI's cookie.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	defer s.tokens.clear()
	if err := s.store.RevokeToken(r.Context(), s.credential(r)); err != nil {
		s.internal(w, "log out", err)
		return
	}
	http.SetCookie(w, s.sessionCookie("", -1))
	writeJSON(w, http.StatusOK, struct{}{})
}

// handleMe answers GET /api/v1/me: the caller's user.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.UserResponse{User: userAPI(currentUser(r))})
}

// userAPI is a user as the API shows it.
func userAPI(u *store.User) api.User {
	out := api.User{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Admin: u.Admin, Active: u.Active, Remote: u.Remote}
	if u.PosixUser == "" && u.AgentUID < 0 {
		return out
	}
	g := &api.AgentUserGroup{AgentUser: u.PosixUser, AgentGroup: u.AgentGrp}
	if u.AgentUID >= 0 {
		uid := u.AgentUID
		g.AgentUID = &uid
	}
	if u.AgentGID >= 0 {
		gid := u.AgentGID
		g.AgentGID = &gid
	}
	out.AgentUserGroup = g
	return out
}
