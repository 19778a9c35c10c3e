package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/det-slurm/bridge/bridge/api"
	"github.com/det-slurm/bridge/client"
	"github.com/det-slurm/bridge/taskconfig"
)

// printPreview prints the config the bridge would run, merged from the
// site's and the pool's defaults and the user's own, and submits nothing.
func printPreview(cmd *cobra.Command, g *globals, c *client.Client, cfg map[string]any) error {
	var merged taskconfig.Config
	if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/notebooks/preview", api.NotebookRequest{Config: cfg}, &merged); err != nil {
		return err
	}
	return writeYAML(g, &merged)
}

func writeYAML(g *globals, v any) error {
	out, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	_, err = g.io.Out.Write(out)
	return err
}

func newConfigCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:               "config ID",
		Short:             "Print the config a notebook ran with",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/notebooks/"+url.PathEscape(args[0])+"/config", nil, &raw); err != nil {
				return err
			}
			var cfg taskconfig.Config
			if err := json.Unmarshal(raw, &cfg); err != nil {
				return fmt.Errorf("decode config: %w", err)
			}
			return writeYAML(g, &cfg)
		},
	}
}
