package api

// The account routes speak Determined 0.38.1's shapes (its v1User,
// v1LoginRequest, v1PostUserRequest, v1PatchUser, ...), so that its own
// CLI and SDK work against the bridge unchanged.

// LoginRequest is the body of POST /api/v1/auth/login. With IsHashed the
// password is PasswordHash of the password, as Determined's clients send
// it; without, the password itself (the bridge's det and WebUI).
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	IsHashed bool   `json:"isHashed"`
}

// LoginResponse is the answer to a login (by password or munge): the
// bearer token for later requests and the user it belongs to.
type LoginResponse struct {
	Token string `json:"token"`
	User  User   `json:"user"`
}

// User is a bridge account (Determined's v1User). Remote users have no
// password: they log in another way (munge) only.
type User struct {
	// ID is the account's number, which the user routes take.
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
	Admin       bool   `json:"admin"`
	Active      bool   `json:"active"`
	Remote      bool   `json:"remote"`
	// AgentUserGroup is the POSIX identity the user's jobs run as; absent
	// when the user is not linked to one.
	AgentUserGroup *AgentUserGroup `json:"agentUserGroup,omitempty"`
}

// AgentUserGroup is a POSIX identity (Determined's v1AgentUserGroup). Ids
// the bridge was not given are absent.
type AgentUserGroup struct {
	AgentUID   *int   `json:"agentUid,omitempty"`
	AgentGID   *int   `json:"agentGid,omitempty"`
	AgentUser  string `json:"agentUser,omitempty"`
	AgentGroup string `json:"agentGroup,omitempty"`
}

// UserResponse is the body of GET /api/v1/me, GET /api/v1/users/{id},
// GET /api/v1/users/{username}/by-username and the answer to creating and
// patching a user.
type UserResponse struct {
	User User `json:"user"`
}

// UsersResponse is the body of GET /api/v1/users: one page of users.
type UsersResponse struct {
	Users      []User     `json:"users"`
	Pagination Pagination `json:"pagination"`
}

// Pagination says which part of a list a page holds (Determined's
// v1Pagination): the offset and limit asked for (limit 0 is no limit), the
// index of its first and past its last item, and the number of items in
// the whole list.
type Pagination struct {
	Offset     int `json:"offset"`
	Limit      int `json:"limit"`
	StartIndex int `json:"startIndex"`
	EndIndex   int `json:"endIndex"`
	Total      int `json:"total"`
}

// PostUserRequest is the body of POST /api/v1/users. User.Active is taken
// as sent (Determined's clients send true). A remote user gets no
// password; a user without Password gets the empty one.
type PostUserRequest struct {
	User     User    `json:"user"`
	Password *string `json:"password,omitempty"`
	IsHashed bool    `json:"isHashed"`
}

// PatchUser is the body of PATCH /api/v1/users/{id}: the fields to change,
// absent ones stay. A user may set their own Password (with IsHashed as
// at login); everything else, and anyone else's, is for admins.
type PatchUser struct {
	Username       *string         `json:"username,omitempty"`
	DisplayName    *string         `json:"displayName,omitempty"`
	Admin          *bool           `json:"admin,omitempty"`
	Active         *bool           `json:"active,omitempty"`
	Remote         *bool           `json:"remote,omitempty"`
	Password       *string         `json:"password,omitempty"`
	IsHashed       bool            `json:"isHashed,omitempty"`
	AgentUserGroup *AgentUserGroup `json:"agentUserGroup,omitempty"`
}

// Sort orders of GET /api/v1/users (sortBy), as Determined names them.
const (
	SortUsersUnspecified = "SORT_BY_UNSPECIFIED"
	SortUsersUserName    = "SORT_BY_USER_NAME"
	SortUsersDisplayName = "SORT_BY_DISPLAY_NAME"
	SortUsersName        = "SORT_BY_NAME"
	SortUsersAdmin       = "SORT_BY_ADMIN"
	SortUsersActive      = "SORT_BY_ACTIVE"
	SortUsersRemote      = "SORT_BY_REMOTE"
)

// Orders of a list (orderBy).
const (
	OrderUnspecified = "ORDER_BY_UNSPECIFIED"
	OrderAsc         = "ORDER_BY_ASC"
	OrderDesc        = "ORDER_BY_DESC"
)

// MungeLoginRequest is the body of POST /api/v1/auth/munge: a credential
// from `munge -s "$(MungePayload(master))"`, proving the caller's POSIX
// identity on the cluster. The bridge takes it only when its payload names
// this bridge and it is at most a minute old.
type MungeLoginRequest struct {
	Credential string `json:"credential"`
}
