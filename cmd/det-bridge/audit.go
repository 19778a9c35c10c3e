package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/det-slurm/bridge/bridge"
	"github.com/det-slurm/bridge/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/siteconfig"
)

// audit prints the audit trail from the site's database (read directly, as
// root on the login node, whether the bridge runs or not): a table, or
// one JSON object a line with --json.
func audit(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("det-bridge audit", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "site config file (YAML); its db_path is read")
	filters := map[string]*string{}
	for _, f := range api.AuditFlags {
		filters[f.Name] = fs.String(f.Name, f.Default, f.Usage)
	}
	asJSON := fs.Bool("json", false, "print one JSON object a line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cfgPath == "" || fs.NArg() > 0 {
		return fmt.Errorf("usage: det-bridge audit --config SITE.yaml [--since 1h] [--until T] [--actor NAME] [--action ACTION] [--json]")
	}
	q := url.Values{}
	for name, v := range filters {
		q.Set(name, *v)
	}
	aq, err := bridge.ParseAuditQuery(q, time.Now())
	if err != nil {
		return fmt.Errorf("--%w", err)
	}
	cfg, err := siteconfig.Load(*cfgPath)
	if err != nil {
		return err
	}
	st, err := store.Open(cfg.DBPath)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.ListAudit(context.Background(), aq)
	if err != nil {
		return err
	}
	entries := bridge.AuditEntries(list)
	if !*asJSON {
		return api.WriteAuditTable(out, entries)
	}
	enc := json.NewEncoder(out)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}
