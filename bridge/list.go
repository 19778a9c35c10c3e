package bridge

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// listQuery is what Determined's GetNotebooks and GetShells take in the
// query: the owners (by name or user id; a task of any of them is
// listed), the workspace (0 for all) and a window of the list. orderBy
// and sortBy are ignored: the list is oldest first.
type listQuery struct {
	users         []string
	userIDs       []int64
	workspaceID   int64
	offset, limit int
}

// parseListQuery reads a list's query (by Determined's names, or
// grpc-gateway's snake_case ones); a value that is not a number is
// refused, naming its parameter.
func parseListQuery(q url.Values) (listQuery, error) {
	lq := listQuery{users: q["users"]}
	for _, name := range []string{"userIds", "user_ids"} {
		for _, v := range q[name] {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return lq, badRequest("%s: %q is not a user id", name, v)
			}
			lq.userIDs = append(lq.userIDs, id)
		}
	}
	num := func(dst *int64, names ...string) error {
		for _, name := range names {
			if v := q.Get(name); v != "" {
				n, err := strconv.ParseInt(v, 10, 32)
				if err != nil {
					return badRequest("%s: %q is not a number", name, v)
				}
				*dst = n
			}
		}
		return nil
	}
	var offset, limit int64
	for _, err := range []error{num(&lq.workspaceID, "workspaceId", "workspace_id"), num(&offset, "offset"), num(&limit, "limit")} {
		if err != nil {
			return lq, err
		}
	}
	if limit < 0 {
		return lq, badRequest("limit: %d is negative; 0 means no limit", limit)
	}
	lq.offset, lq.limit = int(offset), int(limit)
	return lq, nil
}

// checkWorkspace refuses a workspace id other than 0 (any), 1 (the one
// workspace) or absent, with Determined's 404.
func checkWorkspace(id int64) error {
	if id != 0 && id != api.DefaultWorkspaceID {
		return &userError{code: http.StatusNotFound, msg: fmt.Sprintf("workspaceId: no workspace %d; this bridge has one, %d (%s)", id, api.DefaultWorkspaceID, api.DefaultWorkspaceName)}
	}
	return nil
}

// handleList lists the tasks of type typ the user may see: an admin's
// everyone's, anyone else's their own, narrowed by the users and userIds
// filters.
func (s *Server) handleList(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.list(w, r, typ) }
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, typ string) {
	lq, err := parseListQuery(r.URL.Query())
	if err == nil {
		err = checkWorkspace(lq.workspaceID)
	}
	if err != nil {
		s.fail(w, "list "+typ+"s", err)
		return
	}
	var tasks []*store.Task
	if f, ok := visibleFilter(currentUser(r), typ, lq); ok {
		if tasks, err = s.store.ListTasks(r.Context(), f); err != nil {
			s.internal(w, "list "+typ+"s", err)
			return
		}
	}
	pg := paginate(len(tasks), lq.offset, lq.limit)
	start, end, page := pg.StartIndex, pg.EndIndex, &pg
	out := make([]api.Notebook, 0, end-start)
	for _, t := range tasks[start:end] {
		out = append(out, s.toAPI(t))
	}
	if typ == typeShell {
		shells := make([]api.Shell, len(out))
		for i := range out {
			shells[i] = api.Shell{Notebook: out[i]}
		}
		writeJSON(w, http.StatusOK, api.GetShellsResponse{Shells: shells, Pagination: page})
		return
	}
	writeJSON(w, http.StatusOK, api.GetNotebooksResponse{Notebooks: out, Pagination: page})
}

// visibleFilter is the store filter for what u may list of type typ under
// the query's owner filters; false when that is nothing (a user who is
// not an admin asking only for others' tasks).
func visibleFilter(u *store.User, typ string, lq listQuery) (store.TaskFilter, bool) {
	f := store.TaskFilter{Type: typ, Owners: lq.users, OwnerIDs: lq.userIDs}
	if u.Admin {
		return f, true
	}
	filtered := len(lq.users) > 0 || len(lq.userIDs) > 0
	if filtered && !slices.Contains(lq.users, u.Username) && !slices.Contains(lq.userIDs, u.ID) {
		return f, false
	}
	return store.TaskFilter{Type: typ, Owners: []string{u.Username}}, true
}
