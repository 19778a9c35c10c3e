package bridge

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// userOrders are the sortBy values GET /api/v1/users takes: whether a
// sorts before b. Determined's SORT_BY_MODIFIED_TIME and
// SORT_BY_LAST_AUTH_TIME are not among them: the bridge keeps neither.
var userOrders = map[string]func(a, b *store.User) bool{
	"":                       func(a, b *store.User) bool { return a.Username < b.Username },
	api.SortUsersUnspecified: func(a, b *store.User) bool { return a.Username < b.Username },
	api.SortUsersUserName:    func(a, b *store.User) bool { return a.Username < b.Username },
	api.SortUsersDisplayName: func(a, b *store.User) bool { return a.DisplayName < b.DisplayName },
	api.SortUsersName:        func(a, b *store.User) bool { return shownName(a) < shownName(b) },
	api.SortUsersAdmin:       func(a, b *store.User) bool { return !a.Admin && b.Admin },
	api.SortUsersActive:      func(a, b *store.User) bool { return !a.Active && b.Active },
	api.SortUsersRemote:      func(a, b *store.User) bool { return !a.Remote && b.Remote },
}

// shownName is the display name, else the user name.
func shownName(u *store.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// userQuery is what GET /api/v1/users asks for.
type userQuery struct {
	active, admin *bool
	name          string
	offset, limit int
	less          func(a, b *store.User) bool
	desc          bool
}

// parseUserQuery reads Determined's query parameters of GET /api/v1/users.
func parseUserQuery(q url.Values) (userQuery, error) {
	var uq userQuery
	for _, f := range []struct {
		key string
		to  **bool
	}{{"active", &uq.active}, {"admin", &uq.admin}} {
		if v := q.Get(f.key); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return uq, fmt.Errorf("%s: %q is not true or false", f.key, v)
			}
			*f.to = &b
		}
	}
	for _, f := range []struct {
		key string
		to  *int
	}{{"offset", &uq.offset}, {"limit", &uq.limit}} {
		if v := q.Get(f.key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return uq, fmt.Errorf("%s: %q is not a whole number", f.key, v)
			}
			*f.to = n
		}
	}
	if uq.limit < 0 {
		return uq, fmt.Errorf("limit: %d is negative (0 is no limit)", uq.limit)
	}
	var ok bool
	if uq.less, ok = userOrders[q.Get("sortBy")]; !ok {
		return uq, fmt.Errorf("sortBy: %q is not an order the bridge knows (%s, %s, %s, %s, %s, %s)", q.Get("sortBy"),
			api.SortUsersUserName, api.SortUsersDisplayName, api.SortUsersName, api.SortUsersAdmin, api.SortUsersActive, api.SortUsersRemote)
	}
	switch o := q.Get("orderBy"); o {
	case "", api.OrderUnspecified, api.OrderAsc:
	case api.OrderDesc:
		uq.desc = true
	default:
		return uq, fmt.Errorf("orderBy: %q is not %s or %s", o, api.OrderAsc, api.OrderDesc)
	}
	uq.name = strings.ToLower(q.Get("name"))
	return uq, nil
}

// keeps reports whether u passes the query's filters.
func (uq userQuery) keeps(u *store.User) bool {
	return (uq.active == nil || *uq.active == u.Active) && (uq.admin == nil || *uq.admin == u.Admin) &&
		(uq.name == "" || strings.Contains(strings.ToLower(u.Username), uq.name) || strings.Contains(strings.ToLower(u.DisplayName), uq.name))
}

// page returns the part of n users the query asks for.
func (uq userQuery) page(n int) api.Pagination { return paginate(n, uq.offset, uq.limit) }

// handleListUsers answers GET /api/v1/users: the users the query's
// filters keep, sorted, one page.
func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	uq, err := parseUserQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	all, err := s.store.ListUsers(r.Context())
	if err != nil {
		s.internal(w, "list users", err)
		return
	}
	var kept []*store.User
	for _, u := range all {
		if uq.keeps(u) {
			kept = append(kept, u)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool {
		if uq.desc {
			return uq.less(kept[j], kept[i])
		}
		return uq.less(kept[i], kept[j])
	})
	pg := uq.page(len(kept))
	out := api.UsersResponse{Users: make([]api.User, 0, pg.EndIndex-pg.StartIndex), Pagination: pg}
	for _, u := range kept[pg.StartIndex:pg.EndIndex] {
		out.Users = append(out.Users, userAPI(u))
	}
	writeJSON(w, http.StatusOK, out)
}
