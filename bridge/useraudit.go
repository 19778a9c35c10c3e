package bridge

import (
	"strings"

	"github.com/det-slurm/bridge/api"
)

// The audit trail's detail of a user change is the names of the fields
// given (as the API names them), never their values: one of them may be
// a password.

// createdFields names what a new user was given beyond its name.
func createdFields(req api.PostUserRequest) string {
	nu := req.User
	var f []string
	if req.Password != nil && *req.Password != "" {
		f = append(f, "password")
	}
	for _, c := range []struct {
		name string
		set  bool
	}{
		{"displayName", nu.DisplayName != ""}, {"admin", nu.Admin}, {"active", !nu.Active},
		{"remote", nu.Remote}, {"agentUserGroup", nu.AgentUserGroup != nil},
	} {
		if c.set {
			f = append(f, c.name)
		}
	}
	return strings.Join(f, ", ")
}

// patchedFields names the fields a PATCH of a user sets.
func patchedFields(req api.PatchUser) string {
	var f []string
	for _, c := range []struct {
		name string
		set  bool
	}{
		{"password", req.Password != nil}, {"username", req.Username != nil}, {"displayName", req.DisplayName != nil},
		{"admin", req.Admin != nil}, {"active", req.Active != nil}, {"remote", req.Remote != nil},
		{"agentUserGroup", req.AgentUserGroup != nil},
	} {
		if c.set {
			f = append(f, c.name)
		}
	}
	return strings.Join(f, ", ")
}
