package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/siteconfig"
)

// auditOptions are the flags of `det-bridge audit`.
type auditOptions struct {
	config string
	// filters are the values of api.AuditFlags, by name (as the API's
	// query parameters).
	filters map[string]*string
	json    bool // one JSON object a line
}

func newAuditCmd(g *globalOptions) *cobra.Command {
	o := &auditOptions{filters: map[string]*string{}}
	cmd := &cobra.Command{
		Use:   "audit --config SITE.yaml [--since 1h] [--until T] [--actor NAME] [--action ACTION] [--json]",
		Short: "Print the audit trail from the site's database, whether the bridge runs or not",
		Args:  namedArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.requireConfig(cmd); err != nil {
				return err
			}
			o.config = g.config
			return runAudit(cmd.Context(), *o, streamsOf(cmd))
		},
	}
	for _, f := range api.AuditFlags {
		o.filters[f.Name] = cmd.Flags().String(f.Name, f.Default, f.Usage)
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object a line")
	return cmd
}

// runAudit prints the audit trail from the site's database (read
// directly, as root on the login node): a table, or one JSON object a
// line.
func runAudit(ctx context.Context, o auditOptions, s streams) error {
	q := url.Values{}
	for name, v := range o.filters {
		q.Set(name, *v)
	}
	aq, err := bridge.ParseAuditQuery(q, time.Now())
	if err != nil {
		return fmt.Errorf("--%w", err)
	}
	cfg, err := siteconfig.Load(o.config)
	if err != nil {
		return err
	}
	st, err := store.Open(cfg.DBPath)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.ListAudit(ctx, aq)
	if err != nil {
		return err
	}
	entries := bridge.AuditEntries(list)
	if !o.json {
		return api.WriteAuditTable(s.out, entries)
	}
	enc := json.NewEncoder(s.out)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}
