package bridge

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// TestListFilters: users and userIds narrow a list to those owners' tasks
// (either matches); an ordinary user still sees only their own; the list
// is never null and says which part of it an answer holds.
func TestListFilters(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	bob, err := h.srv.store.CreateUser(ctx, "bob", store.Plain("pw"), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.srv.store.LinkAgent(ctx, "bob", "jobuser", -1, "", -1); err != nil {
		t.Fatal(err)
	}
	det, err := h.srv.store.UserByName(ctx, "determined")
	if err != nil {
		t.Fatal(err)
	}
	mine := []string{h.start(nil).ID, h.start(nil).ID}
	asBob := h.as("bob", "pw")
	bobs := asBob.start(nil).ID
	admin := h.adminClient()

	ids := func(c *harness, query string) string {
		t.Helper()
		var resp api.GetNotebooksResponse
		c.do("GET", "/api/v1/notebooks"+query, nil, &resp, http.StatusOK)
		var out []string
		for _, nb := range resp.Notebooks {
			out = append(out, nb.ID)
		}
		return strings.Join(out, ",")
	}
	all := strings.Join(append(append([]string{}, mine...), bobs), ",")
	for _, c := range []struct {
		who   *harness
		query string
		want  string
	}{
		{admin, "", all},
		{admin, "?users=determined", strings.Join(mine, ",")},
		{admin, fmt.Sprintf("?userIds=%d", bob.ID), bobs},
		{admin, fmt.Sprintf("?users=determined&userIds=%d", bob.ID), all},
		{admin, "?users=determined&users=bob", all},
		{admin, "?users=nobody", ""},
		{admin, "?workspaceId=0", all},
		{admin, "?workspaceId=1", all},
		{h, "", strings.Join(mine, ",")},
		{h, "?users=determined", strings.Join(mine, ",")},
		{h, fmt.Sprintf("?userIds=%d", det.ID), strings.Join(mine, ",")},
		{h, "?users=bob", ""},
		{h, fmt.Sprintf("?userIds=%d", bob.ID), ""},
		{h, "?users=bob&users=determined", strings.Join(mine, ",")},
		{asBob, "", bobs},
		{asBob, "?users=determined", ""},
		{admin, "?offset=1&limit=1", mine[1]},
		{admin, "?offset=-1", bobs},
		{admin, "?offset=5", ""},
	} {
		if got := ids(c.who, c.query); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.who.token[:4], c.query, got, c.want)
		}
	}
	w := admin.req("GET", "/api/v1/notebooks?users=nobody", nil, nil)
	checkShape(t, w.Body.Bytes())
	if !strings.Contains(w.Body.String(), `"notebooks":[]`) {
		t.Errorf("an empty list: %s", w.Body)
	}
	var page api.GetNotebooksResponse
	admin.do("GET", "/api/v1/notebooks?offset=1&limit=1", nil, &page, http.StatusOK)
	if p := page.Pagination; p == nil || *p != (api.Pagination{Offset: 1, Limit: 1, StartIndex: 1, EndIndex: 2, Total: 3}) {
		t.Errorf("pagination %+v", p)
	}
	checkShape(t, admin.req("GET", "/api/v1/notebooks", nil, nil).Body.Bytes(), "notebooks.0")
	for q, want := range map[string]string{
		"?userIds=bob":  "userIds: \"bob\" is not a user id",
		"?limit=-1":     "limit: -1 is negative",
		"?offset=x":     "offset: \"x\" is not a number",
		"?workspaceId=": "",
	} {
		w := h.req("GET", "/api/v1/notebooks"+q, nil, nil)
		if want == "" {
			if w.Code != http.StatusOK {
				t.Errorf("%s: %d", q, w.Code)
			}
			continue
		}
		if w.Code != http.StatusBadRequest || !strings.Contains(errorOf(w.Body.Bytes()), want) {
			t.Errorf("%s: %d %s, want 400 %q", q, w.Code, w.Body, want)
		}
	}
	if w := h.req("GET", "/api/v1/shells?workspaceId=3", nil, nil); w.Code != http.StatusNotFound || !strings.Contains(errorOf(w.Body.Bytes()), "no workspace 3") {
		t.Errorf("another workspace: %d %s", w.Code, w.Body)
	}
}

func TestPaginate(t *testing.T) {
	for _, c := range []struct{ total, offset, limit, start, end int }{
		{10, 0, 0, 0, 10}, {10, 3, 4, 3, 7}, {10, 8, 4, 8, 10}, {10, 12, 0, 10, 10},
		{10, -3, 0, 7, 10}, {10, -30, 2, 0, 2}, {0, 0, 5, 0, 0},
	} {
		p := paginate(c.total, c.offset, c.limit)
		start, end := p.StartIndex, p.EndIndex
		if start != c.start || end != c.end || p.Total != c.total || p.StartIndex != start || p.EndIndex != end || p.Offset != c.offset || p.Limit != c.limit {
			t.Errorf("paginate(%d, %d, %d) = %d, %d, %+v; want %d, %d", c.total, c.offset, c.limit, start, end, p, c.start, c.end)
		}
	}
}
