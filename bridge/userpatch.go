package bridge

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/siteconfig"
)

// handlePatchUser answers PATCH /api/v1/users/{id}. A user may set their
// own password with a token from a recent login (Determined's clients send
// no current password; the login is the proof of it); everything else,
// and anything of another user, is for admins. A password change
// revokes every other token of the user (all of them when an admin sets
// another user's); a deactivation all of them.
func (s *Server) handlePatchUser(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	var req api.PatchUser
	if !readJSON(w, r, &req) {
		return
	}
	me := currentUser(r)
	target, err := s.store.UserByID(r.Context(), id)
	if err != nil {
		s.writeUser(w, nil, err, fmt.Sprintf("no user has id %d", id))
		return
	}
	self := target.ID == me.ID
	passwordOnly := req.Username == nil && req.DisplayName == nil && req.Admin == nil && req.Active == nil &&
		req.Remote == nil && req.AgentUserGroup == nil
	switch {
	case !me.Admin && !self:
		writeError(w, http.StatusForbidden, "only an admin may change another user")
		return
	case !me.Admin && !passwordOnly:
		writeError(w, http.StatusForbidden, "you may change your own password; everything else about a user is for an admin")
		return
	case self && req.Active != nil && !*req.Active:
		writeError(w, http.StatusBadRequest, "you may not deactivate yourself; another admin may")
		return
	case self && req.Admin != nil && !*req.Admin:
		writeError(w, http.StatusBadRequest, "you may not take away your own admin rights; another admin may")
		return
	}
	if self && req.Password != nil && !s.recentLogin(w, r) {
		return
	}
	p, ok := s.userPatch(w, target, req)
	if !ok {
		return
	}
	if self {
		p.KeepToken = s.credential(r)
	}
	defer s.tokens.clear()
	u, err := s.store.PatchUser(r.Context(), id, p)
	if s.userChangeFailed(w, target.Username, err) {
		return
	}
	s.auditRequest(r, api.AuditUserUpdate, me.Username, target.Username, patchedFields(req))
	if p.Password != nil || p.Remote != nil || p.Active != nil || p.Username != nil {
		s.log.Info("user changed", "user", u.Username, "by", me.Username, "password", p.Password != nil,
			"renamed", target.Username != u.Username, "active", u.Active, "remote", u.Remote)
	}
	writeJSON(w, http.StatusOK, api.UserResponse{User: userAPI(u)})
}

// recentLogin answers 403 and returns false unless the request's token
// comes from a login within the site's password_change_login_within: a
// token alone (stolen from a browser, or a week old) does not change its
// user's password.
func (s *Server) recentLogin(w http.ResponseWriter, r *http.Request) bool {
	window := s.cfg.PasswordChangeWindow
	if window <= 0 {
		window = siteconfig.DefaultPasswordChangeLoginWithin
	}
	ses := currentSession(r)
	if age := time.Since(ses.Issued); ses.Issued.IsZero() || age > window {
		s.log.Warn("own password change refused: the session's login is not recent", "user", ses.User.Username, "window", window)
		writeError(w, http.StatusForbidden, fmt.Sprintf(
			"changing your own password needs a login from the last %s (the proof that you know the current password); this session's is older: log in again (det user login %s) and change it then",
			window, ses.User.Username))
		return false
	}
	return true
}

// userPatch checks a PATCH body for target and returns the store's
// change; false after answering 400.
func (s *Server) userPatch(w http.ResponseWriter, target *store.User, req api.PatchUser) (store.UserPatch, bool) {
	p := store.UserPatch{Username: req.Username, DisplayName: req.DisplayName, Admin: req.Admin, Active: req.Active, Remote: req.Remote}
	if req.Username != nil && !checkUsername(w, *req.Username) {
		return p, false
	}
	if req.DisplayName != nil && !checkDisplayName(w, *req.DisplayName) {
		return p, false
	}
	if req.Password != nil {
		p.Password = &store.Password{Text: *req.Password, Hashed: req.IsHashed}
	}
	if g := req.AgentUserGroup; g != nil {
		a, ok := s.agentOf(w, target.Username, *g)
		if !ok {
			return p, false
		}
		p.Agent = &a
	}
	return p, true
}

// agentOf checks the POSIX identity bridge user name is to be linked to
// (it must exist here, match the uid given, and be a person's account)
// and returns it; false after answering 400.
func (s *Server) agentOf(w http.ResponseWriter, name string, g api.AgentUserGroup) (store.Agent, bool) {
	if g.AgentUser == "" {
		writeError(w, http.StatusBadRequest, "agentUserGroup.agentUser: give the POSIX user the jobs run as")
		return store.Agent{}, false
	}
	pu, err := s.lookupUser(g.AgentUser)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("agent user %q does not exist on this host", g.AgentUser))
		return store.Agent{}, false
	}
	uid, _ := strconv.Atoi(pu.Uid)
	gid, _ := strconv.Atoi(pu.Gid)
	if g.AgentUID != nil && *g.AgentUID != uid {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("agent uid %d does not match %s's uid %d on this host", *g.AgentUID, g.AgentUser, uid))
		return store.Agent{}, false
	}
	if reason := s.refuseAccount(pu.Username, uid); reason != "" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("cannot link %s: %s", name, reason))
		return store.Agent{}, false
	}
	if g.AgentGID != nil {
		gid = *g.AgentGID
	}
	return store.Agent{User: g.AgentUser, UID: uid, Group: g.AgentGroup, GID: gid}, true
}
