package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/det-slurm/bridge/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

func userAPI(u *store.User) api.User {
	out := api.User{Username: u.Username, Admin: u.Admin, Active: u.Active, AgentUser: u.PosixUser}
	if u.AgentUID >= 0 {
		uid := u.AgentUID
		out.AgentUID = &uid
	}
	return out
}

func requireAdmin(w http.ResponseWriter, r *http.Request) bool {
	if !currentUser(r).Admin {
		writeError(w, http.StatusForbidden, "only an admin may do this")
		return false
	}
	return true
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, userAPI(currentUser(r)))
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.store.ListUsers(r.Context())
	if err != nil {
		s.internal(w, "list users", err)
		return
	}
	out := make([]api.User, 0, len(users))
	for _, u := range users {
		out = append(out, userAPI(u))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r) {
		return
	}
	var req api.CreateUserRequest
	if !readJSON(w, r, &req) {
		return
	}
	if !validName(req.Username) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("username %q: use letters, digits, '.', '_' and '-' (at most 64)", req.Username))
		return
	}
	if !checkPasswordLength(w, req.Password) {
		return
	}
	if _, err := s.store.UserByName(r.Context(), req.Username); err == nil {
		writeError(w, http.StatusConflict, fmt.Sprintf("user %s exists already", req.Username))
		return
	}
	defer s.tokens.clear()
	u, err := s.store.CreateUser(r.Context(), req.Username, req.Password, req.Admin)
	if errors.Is(err, store.ErrPasswordTooLong) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		s.internal(w, "create user", err)
		return
	}
	writeJSON(w, http.StatusCreated, userAPI(u))
}

func validName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-", c)) {
			return false
		}
	}
	return true
}

// checkPasswordLength answers 400 and reports false for a password
// bcrypt cannot hash whole.
func checkPasswordLength(w http.ResponseWriter, pw string) bool {
	if len(pw) > store.MaxPasswordBytes {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("the password is %d bytes long; passwords are stored with bcrypt, which takes at most %d bytes: choose a shorter one", len(pw), store.MaxPasswordBytes))
		return false
	}
	return true
}

// handlePassword changes a password: users their own, with their current
// password, which revokes every other token of theirs; admins anyone's
// without it, which revokes every token of that user.
func (s *Server) handlePassword(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	me := currentUser(r)
	self := name == me.Username
	if !self && !me.Admin {
		writeError(w, http.StatusForbidden, "you may change only your own password")
		return
	}
	var req api.PasswordRequest
	if !readJSON(w, r, &req) {
		return
	}
	if !checkPasswordLength(w, req.Password) {
		return
	}
	var err error
	if self {
		keys := passwordKeys(r, name)
		if s.limiter.blocked(w, keys...) {
			return
		}
		err = s.store.ChangePassword(r.Context(), name, req.OldPassword, req.Password, s.credential(r))
		if errors.Is(err, store.ErrBadCredentials) {
			s.limiter.failed(keys...)
			if req.OldPassword == "" {
				writeError(w, http.StatusBadRequest, "changing your own password needs your current one (old_password); `det user change-password` asks for it")
			} else {
				writeError(w, http.StatusForbidden, "the current password is wrong")
			}
			return
		}
	} else {
		err = s.store.SetPassword(r.Context(), name, req.Password)
	}
	s.tokens.clear()
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no user "+name)
	case errors.Is(err, store.ErrPasswordTooLong):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		s.internal(w, "set password", err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) handleDeactivate(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r) {
		return
	}
	name := mux.Vars(r)["name"]
	defer s.tokens.clear()
	if err := s.store.SetActive(r.Context(), name, false); errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no user "+name)
		return
	} else if err != nil {
		s.internal(w, "deactivate user", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleLink links a bridge user to the POSIX account its jobs run as.
func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r) {
		return
	}
	name := mux.Vars(r)["name"]
	var req api.LinkRequest
	if !readJSON(w, r, &req) {
		return
	}
	pu, err := s.lookupUser(req.AgentUser)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("agent user %q does not exist on this host", req.AgentUser))
		return
	}
	uid, _ := strconv.Atoi(pu.Uid)
	gid, _ := strconv.Atoi(pu.Gid)
	if req.AgentUID != nil && *req.AgentUID != uid {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("agent uid %d does not match %s's uid %d on this host", *req.AgentUID, req.AgentUser, uid))
		return
	}
	if reason := s.refuseAccount(pu.Username, uid); reason != "" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("cannot link %s: %s", name, reason))
		return
	}
	if req.AgentGID != nil {
		gid = *req.AgentGID
	}
	defer s.tokens.clear()
	if err := s.store.LinkAgent(r.Context(), name, req.AgentUser, uid, req.AgentGroup, gid); errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no user "+name)
		return
	} else if err != nil {
		s.internal(w, "link user", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	defer s.tokens.clear()
	if err := s.store.RevokeToken(r.Context(), s.credential(r)); err != nil {
		s.internal(w, "log out", err)
		return
	}
	http.SetCookie(w, s.sessionCookie("", -1))
	w.WriteHeader(http.StatusNoContent)
}

// checkDefaultPasswords refuses to serve while a default account has an
// empty password, unless the site config allows it in so many words.
func (s *Server) checkDefaultPasswords(ctx context.Context) error {
	if s.cfg.InsecureEmptyDefaultPasswords {
		return nil
	}
	for _, name := range []string{"admin", "determined"} {
		empty, err := s.store.HasEmptyPassword(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if empty {
			return fmt.Errorf("user %q still has the empty default password; set one with `det-bridge set-password --config SITE.yaml %s` (or, on a test cluster only, set insecure_empty_default_passwords: true in the site config)", name, name)
		}
	}
	return nil
}
