package cli

import (
	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// newAuditCmd is `det audit`: the bridge's audit trail (admins only).
func newAuditCmd(g *globals) *cobra.Command {
	filters := map[string]*string{}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit trail: logins, user changes, task starts and kills, admins' access to others' notebooks (admin only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			q := client.AuditQuery{Since: *filters["since"], Until: *filters["until"], Actor: *filters["actor"], Action: *filters["action"]}
			entries, err := c.Audit(cmd.Context(), q)
			if err != nil {
				return err
			}
			if asJSON {
				return g.printJSON(entries)
			}
			return api.WriteAuditTable(g.io.Out, entries)
		},
	}
	for _, f := range api.AuditFlags {
		filters[f.Name] = cmd.Flags().String(f.Name, f.Default, f.Usage)
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
