package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/det-slurm/bridge/api"
)

// AuditQuery selects entries of the audit trail: Since and Until are RFC
// 3339 times or durations before now ("1h"), Actor a user name, Action an
// action (api.Audit*) or a prefix of one ending in "*"; empty: any.
type AuditQuery struct {
	Since, Until, Actor, Action string
}

// auditPage is how many entries one request of Audit asks for.
const auditPage = 1000

// Audit returns the entries of the audit trail q selects, oldest first,
// page by page (admins only).
func (c *Client) Audit(ctx context.Context, q AuditQuery) ([]api.AuditEntry, error) {
	v := url.Values{"limit": {fmt.Sprint(auditPage)}}
	for k, s := range map[string]string{"since": q.Since, "until": q.Until, "actor": q.Actor, "action": q.Action} {
		if s != "" {
			v.Set(k, s)
		}
	}
	entries := []api.AuditEntry{}
	for offset := 0; ; {
		v.Set("offset", fmt.Sprint(offset))
		var page api.GetAuditResponse
		if err := c.Do(ctx, http.MethodGet, Path("audit")+"?"+v.Encode(), nil, &page); err != nil {
			return nil, err
		}
		entries = append(entries, page.Entries...)
		if page.Pagination.EndIndex >= page.Pagination.Total || page.Pagination.EndIndex <= offset {
			return entries, nil
		}
		offset = page.Pagination.EndIndex
	}
}
