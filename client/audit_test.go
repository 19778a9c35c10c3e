package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
)

// TestAuditPages: Audit sends the filters given (and no others) and
// follows the pagination to the end.
func TestAuditPages(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	all := []api.AuditEntry{{Time: at, Actor: "alice"}, {Time: at, Actor: "bob"}, {Time: at, Actor: "carol"}}
	var queries []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		queries = append(queries, q)
		offset, _ := strconv.Atoi(q.Get("offset"))
		end := min(offset+2, len(all))
		_ = json.NewEncoder(w).Encode(api.GetAuditResponse{Entries: all[offset:end], Pagination: api.Pagination{Offset: offset, Limit: 2, StartIndex: offset, EndIndex: end, Total: len(all)}})
	}))
	defer srv.Close()
	entries, err := New(srv.URL, "t").Audit(context.Background(), AuditQuery{Since: "1h", Actor: "alice", Action: "login*"})
	if err != nil || len(entries) != 3 || entries[2].Actor != "carol" {
		t.Fatalf("%v %+v", err, entries)
	}
	if len(queries) != 2 || queries[0].Get("since") != "1h" || queries[0].Get("actor") != "alice" || queries[0].Get("action") != "login*" || queries[0].Has("until") || queries[1].Get("offset") != "2" {
		t.Errorf("queries %v", queries)
	}
}
