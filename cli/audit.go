package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// auditOptions are the flags of `det audit`.
type auditOptions struct {
	query client.AuditQuery
	json  bool
}

// newAuditCmd is `det audit`: the bridge's audit trail (admins only).
func newAuditCmd(g *globals) *cobra.Command {
	o := &auditOptions{}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit trail: logins, user changes, task starts and kills, admins' access to others' notebooks (admin only)",
		Args:  cobra.NoArgs,
		RunE: g.runE(func(ctx context.Context, c bridgeClient, _ []string) error {
			return runAudit(ctx, *o, c, g.con)
		}),
	}
	filters := map[string]*string{"since": &o.query.Since, "until": &o.query.Until, "actor": &o.query.Actor, "action": &o.query.Action}
	for _, f := range api.AuditFlags {
		cmd.Flags().StringVar(filters[f.Name], f.Name, f.Default, f.Usage)
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

// runAudit prints the entries of the audit trail the query selects: a
// table, or JSON.
func runAudit(ctx context.Context, o auditOptions, c bridgeClient, con *console) error {
	entries, err := c.Audit(ctx, o.query)
	if err != nil {
		return err
	}
	if o.json {
		return con.printJSON(entries)
	}
	return api.WriteAuditTable(con.Out, entries)
}
