package cli

import (
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/det-slurm/bridge/taskconfig"
)

// printConfig prints a merged config (JSON, as the API sends it) as YAML,
// with Determined's field names.
func printConfig(g *globals, raw json.RawMessage) error {
	var cfg taskconfig.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("decode config: %w", err)
	}
	return writeYAML(g, &cfg)
}

func writeYAML(g *globals, v any) error {
	out, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	_, err = g.io.Out.Write(out)
	return err
}
