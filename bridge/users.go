package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// requireAdmin answers 403 for a user who is not an admin, and reports
// whether the user is one.
func requireAdmin(w http.ResponseWriter, r *http.Request) bool {
	if !currentUser(r).Admin {
		writeError(w, http.StatusForbidden, "only an admin may do this")
		return false
	}
	return true
}

// adminOnly guards the admin routes with requireAdmin.
func adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requireAdmin(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// handleGetUser answers GET /api/v1/users/{id}.
func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	u, err := s.store.UserByID(r.Context(), id)
	s.writeUser(w, u, err, fmt.Sprintf("no user has id %d", id))
}

// handleGetUserByName answers GET /api/v1/users/{name}/by-username.
func (s *Server) handleGetUserByName(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	u, err := s.store.UserByName(r.Context(), name)
	s.writeUser(w, u, err, "no user "+name)
}

// writeUser answers with u, or with the error of looking it up
// (notFound's text for store.ErrNotFound).
func (s *Server) writeUser(w http.ResponseWriter, u *store.User, err error, notFound string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, notFound)
	case err != nil:
		s.internal(w, "read user", err)
	default:
		writeJSON(w, http.StatusOK, api.UserResponse{User: userAPI(u)})
	}
}

// handleCreateUser answers POST /api/v1/users (admins only): a local user
// with a password (none is the empty one), or a remote one without.
func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r) {
		return
	}
	var req api.PostUserRequest
	if !readJSON(w, r, &req) {
		return
	}
	nu := req.User
	if !checkUsername(w, nu.Username) || !checkDisplayName(w, nu.DisplayName) {
		return
	}
	var pw string
	if req.Password != nil {
		pw = *req.Password
	}
	if nu.Remote && pw != "" {
		writeError(w, http.StatusBadRequest, store.ErrRemoteWithPassword.Error())
		return
	}
	var patch store.UserPatch
	if g := nu.AgentUserGroup; g != nil {
		a, ok := s.agentOf(w, nu.Username, *g)
		if !ok {
			return
		}
		patch.Agent = &a
	}
	if nu.DisplayName != "" {
		patch.DisplayName = &nu.DisplayName
	}
	if !nu.Active {
		patch.Active = &nu.Active
	}
	defer s.tokens.clear()
	var u *store.User
	var err error
	if nu.Remote {
		u, err = s.store.CreateUserWithoutPassword(r.Context(), nu.Username, nu.Admin)
	} else {
		u, err = s.store.CreateUser(r.Context(), nu.Username, store.Password{Text: pw, Hashed: req.IsHashed}, nu.Admin)
	}
	if err == nil {
		s.auditRequest(r, api.AuditUserCreate, currentUser(r).Username, u.Username, createdFields(req))
		if patch != (store.UserPatch{}) {
			u, err = s.store.PatchUser(r.Context(), u.ID, patch)
		}
	}
	if s.userChangeFailed(w, nu.Username, err) {
		return
	}
	writeJSON(w, http.StatusOK, api.UserResponse{User: userAPI(u)})
}

// userChangeFailed answers the error of creating or changing user name,
// and reports whether there was one.
func (s *Server) userChangeFailed(w http.ResponseWriter, name string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no user "+name)
	case errors.Is(err, store.ErrUserExists):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, store.ErrLiveTasks):
		writeError(w, http.StatusConflict, fmt.Sprintf("%s: %v", name, err))
	case errors.Is(err, store.ErrPasswordTooLong), errors.Is(err, store.ErrBadPasswordHash),
		errors.Is(err, store.ErrNeedsPassword), errors.Is(err, store.ErrRemoteWithPassword):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		s.internal(w, "change user "+name, err)
	}
	return true
}

// checkUsername answers 400 and reports false for a name that is not one.
func checkUsername(w http.ResponseWriter, n string) bool {
	if validName(n) {
		return true
	}
	writeError(w, http.StatusBadRequest, fmt.Sprintf("username %q: use letters, digits, '.', '_' and '-' (at most 64)", n))
	return false
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

// checkDisplayName answers 400 and reports false for a display name
// that is too long or holds control characters.
func checkDisplayName(w http.ResponseWriter, n string) bool {
	ok := len(n) <= 128
	for _, c := range n {
		ok = ok && c >= ' ' && c != 0x7f
	}
	if !ok {
		writeError(w, http.StatusBadRequest, "displayName: at most 128 bytes, without control characters")
	}
	return ok
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
