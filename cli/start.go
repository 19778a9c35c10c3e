package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
	"github.com/det-slurm/bridge/taskconfig"
)

// startOptions are the flags of `det notebook start` and `det shell
// start`.
type startOptions struct {
	configFile string
	overrides  []string
	detach     bool
	noBrowser  bool
	preview    bool
	contextDir string
	includes   []string
	volumes    []string
}

// addConfigFlags adds the flags that build a task's config and its
// context, shared by notebooks and shells.
func (o *startOptions) addConfigFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.configFile, "config-file", "", "config file (YAML), with Determined's field names")
	f.StringArrayVar(&o.overrides, "config", nil, "config override key=value, e.g. resources.slots=2 (repeatable)")
	f.StringArrayVarP(&o.volumes, "volume", "v", nil, "bind mount HOST_PATH[:CONTAINER_PATH[:ro]], several separated by commas, as Apptainer's --bind (repeatable)")
	f.BoolVarP(&o.detach, "detach", "d", false, "print the id and return at once")
	f.StringVarP(&o.contextDir, "context", "c", "", "folder to copy into the working directory (.detignore honoured)")
	f.StringArrayVarP(&o.includes, "include", "i", nil, "file or folder to copy into the working directory (repeatable)")
}

// buildConfig merges --config-file and each --config, in that order.
func (o *startOptions) buildConfig() (map[string]any, error) {
	cfg := map[string]any{}
	if o.configFile != "" {
		data, err := os.ReadFile(o.configFile)
		if err != nil {
			return nil, fmt.Errorf("--config-file: %w", err)
		}
		if cfg, err = taskconfig.ParseYAML(data); err != nil {
			return nil, fmt.Errorf("--config-file %s: %w", o.configFile, err)
		}
	}
	for _, kv := range o.overrides {
		m, err := taskconfig.ParseOverride(kv)
		if err != nil {
			return nil, err
		}
		cfg = taskconfig.Merge(cfg, m)
	}
	for _, v := range o.volumes {
		binds, err := taskconfig.ParseBindMounts(v)
		if err != nil {
			return nil, fmt.Errorf("-v: %w", err)
		}
		mounts, _ := cfg["bind_mounts"].([]any)
		for _, b := range binds {
			mounts = append(mounts, map[string]any{"host_path": b.HostPath, "container_path": b.ContainerPath, "read_only": b.ReadOnly})
		}
		cfg["bind_mounts"] = mounts
	}
	return cfg, nil
}

// launchOptions are what a start command runs with: the request the
// flags make, and what to do once it is sent.
type launchOptions struct {
	kind      client.Kind
	request   api.LaunchRequest
	detach    bool // print the id and return at once
	noBrowser bool // notebooks: open no browser
	preview   bool // print the merged config; nothing is submitted
}

// launchOptions reads the flags into the options of a start of kind k:
// the config and the files of --context and --include (what is left out
// of them is named on errOut).
func (o *startOptions) launchOptions(k client.Kind, errOut io.Writer) (launchOptions, error) {
	cfg, err := o.buildConfig()
	if err != nil {
		return launchOptions{}, err
	}
	lo := launchOptions{kind: k, request: api.LaunchRequest{Config: cfg, Preview: o.preview}, detach: o.detach, noBrowser: o.noBrowser, preview: o.preview}
	if o.contextDir == "" && len(o.includes) == 0 {
		return lo, nil
	}
	files, skipped, err := taskconfig.ContextFiles(o.contextDir, o.includes)
	if err != nil {
		return launchOptions{}, err
	}
	if len(skipped) > 0 {
		fmt.Fprintf(errOut, "Left out of the context (links to folders, broken links, sockets, devices, pipes): %s\n", strings.Join(skipped, ", "))
	}
	lo.request.Files = files
	return lo, nil
}

// startRunE is the RunE of a start command of kind k: it reads the flags
// (before logging in, so a bad flag costs no login), logs in and runs
// run.
func (g *globals) startRunE(o *startOptions, k client.Kind, run func(context.Context, launchOptions, bridgeClient, *console) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		lo, err := o.launchOptions(k, g.con.ErrOut)
		if err != nil {
			return err
		}
		c, err := g.client(cmd.Context())
		if err != nil {
			return err
		}
		return run(cmd.Context(), lo, c, g.con)
	}
}
