package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/bridge/api"
	"github.com/det-slurm/bridge/client"
	"github.com/det-slurm/bridge/taskconfig"
)

func newNotebookCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "notebook", Aliases: []string{"notebooks"}, Short: "Start, list, follow and kill Jupyter notebooks"}
	cmd.AddCommand(newStartCmd(g), newListCmd(g), newKillCmd(g), newLogsCmd(g), newConfigCmd(g))
	return cmd
}

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

func newStartCmd(g *globals) *cobra.Command {
	o := &startOptions{}
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start a JupyterLab notebook as a Slurm job",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runStart(cmd, g, o) },
	}
	f := cmd.Flags()
	o.addConfigFlags(cmd)
	f.BoolVar(&o.noBrowser, "no-browser", false, "do not open a browser when the notebook is ready")
	f.BoolVar(&o.preview, "preview", false, "print the merged config and submit nothing")
	f.StringVarP(&o.contextDir, "context", "c", "", "folder to copy into the working directory (.detignore honoured)")
	f.StringArrayVarP(&o.includes, "include", "i", nil, "file or folder to copy into the working directory (repeatable)")
	return cmd
}

// addConfigFlags adds the flags that build a task's config, shared by
// notebooks and shells.
func (o *startOptions) addConfigFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.configFile, "config-file", "", "config file (YAML), with Determined's field names")
	f.StringArrayVar(&o.overrides, "config", nil, "config override key=value, e.g. resources.slots=2 (repeatable)")
	f.StringArrayVarP(&o.volumes, "volume", "v", nil, "bind mount HOST_PATH[:CONTAINER_PATH[:ro]], several separated by commas, as Apptainer's --bind (repeatable)")
	f.BoolVarP(&o.detach, "detach", "d", false, "print the id and return at once")
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

func runStart(cmd *cobra.Command, g *globals, o *startOptions) error {
	cfg, err := o.buildConfig()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	c, err := g.client(ctx)
	if err != nil {
		return err
	}
	if o.preview {
		return printPreview(cmd, g, c, cfg)
	}
	var archive []byte
	if o.contextDir != "" || len(o.includes) > 0 {
		if archive, err = taskconfig.PackContext(o.contextDir, o.includes); err != nil {
			return err
		}
	}
	nb, err := c.StartNotebook(ctx, cfg, archive)
	if err != nil {
		return err
	}
	if o.detach {
		fmt.Fprintln(g.io.Out, nb.ID)
		return nil
	}
	fmt.Fprintf(g.io.Out, "Scheduling notebook %s (id: %s)...\n", nb.Description, nb.ID)
	nb, err = waitRunning(cmd, g, c, nb)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.io.Out, "Jupyter Notebook is running at: %s\n", nb.ServiceAddress)
	if !o.noBrowser && os.Getenv("DISPLAY") != "" {
		if p, err := exec.LookPath("xdg-open"); err == nil {
			_ = exec.Command(p, nb.ServiceAddress).Start()
		}
	}
	return nil
}

// waitRunning polls until the notebook is RUNNING, printing each state
// (with Slurm's reason) as it changes.
func waitRunning(cmd *cobra.Command, g *globals, c *client.Client, nb *api.Notebook) (*api.Notebook, error) {
	last := ""
	for {
		shown := nb.State
		if nb.Reason != "" && nb.State == api.StateQueued {
			shown += " (" + nb.Reason + ")"
		}
		if shown != last {
			fmt.Fprintf(g.io.Out, "%s ...\n", shown)
			last = shown
		}
		switch nb.State {
		case api.StateRunning:
			return nb, nil
		case api.StateTerminated, api.StateTerminating:
			return nil, fmt.Errorf("notebook %s ended before it ran: %s (see `det notebook logs %s`)", nb.ID, nb.Reason, nb.ID[:8])
		}
		select {
		case <-cmd.Context().Done():
			return nil, cmd.Context().Err()
		case <-time.After(500 * time.Millisecond):
		}
		next, err := c.Notebook(cmd.Context(), nb.ID)
		if err != nil {
			return nil, err
		}
		nb = next
	}
}

func newListCmd(g *globals) *cobra.Command { return newListCmdFor(g, "notebooks") }

// newListCmdFor lists the tasks of one kind ("notebooks" or "shells").
func newListCmdFor(g *globals, kind string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List " + kind,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			var list api.NotebookList
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/"+kind, nil, &list); err != nil {
				return err
			}
			nbs := list.Notebooks
			if asJSON {
				enc := json.NewEncoder(g.io.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(nbs)
			}
			warnIfStale(cmd, g, c)
			tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "Id\tOwner\tDescription\tRegistered Time\tState\tResource Pool\tSlots\tNode\tRemaining")
			for _, n := range nbs {
				state := n.State
				if n.Reason != "" {
					state += " (" + n.Reason + ")"
				}
				if n.EstimatedStart != nil {
					state += ", starts about " + n.EstimatedStart.Local().Format("Jan 2 15:04")
				}
				remaining := ""
				if n.TimeRemainingSeconds != nil {
					remaining = (time.Duration(*n.TimeRemainingSeconds) * time.Second).String()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", n.ID, n.Owner, n.Description,
					n.RegisteredTime.Local().Format("2006-01-02 15:04:05"), state, n.ResourcePool, n.Slots, n.Node, remaining)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newKillCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:               "kill ID...",
		Short:             "Kill notebooks (a unique prefix of an id is enough)",
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: g.completeIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			var firstErr error
			for _, id := range args {
				nb, err := c.KillNotebook(cmd.Context(), id)
				if err != nil {
					err = fmt.Errorf("kill %s: %w", id, err)
					if !force {
						return err
					}
					fmt.Fprintln(g.io.ErrOut, err)
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				fmt.Fprintf(g.io.Out, "Killed notebook %s (%s)\n", nb.ID, nb.Description)
			}
			return firstErr
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "go on past errors")
	return cmd
}

func newLogsCmd(g *globals) *cobra.Command {
	var o client.LogOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:               "logs ID",
		Short:             "Print a task's logs: the bridge's events and the job's output",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: g.completeIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			enc := json.NewEncoder(g.io.Out)
			return c.Logs(cmd.Context(), args[0], o, func(l api.TaskLog) error {
				if asJSON {
					return enc.Encode(l)
				}
				_, err := io.WriteString(g.io.Out, l.Message) // as Determined's CLI prints it, "\n" included
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&o.Follow, "follow", "f", false, "keep printing until the task ends")
	cmd.Flags().IntVar(&o.Head, "head", 0, "print only the first N lines")
	cmd.Flags().IntVar(&o.Tail, "tail", 0, "print only the last N lines (with -f: start with them)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print each line as JSON")
	cmd.MarkFlagsMutuallyExclusive("head", "tail")
	return cmd
}

// completeIDs offers the ids of the user's notebooks for shell completion.
func (g *globals) completeIDs(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	c, err := g.client(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	nbs, err := c.Notebooks(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var ids []string
	for _, n := range nbs {
		if !api.Terminal(n.State) {
			ids = append(ids, n.ID+"\t"+n.Description)
		}
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}

// warnIfStale tells the user when the bridge cannot reach Slurm, so the
// states shown may be out of date.
func warnIfStale(cmd *cobra.Command, g *globals, c *client.Client) {
	var m api.Master
	if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/master", nil, &m); err != nil || m.Slurm == nil || !m.Slurm.Stale {
		return
	}
	since := ""
	if m.Slurm.Since != nil {
		since = " since " + m.Slurm.Since.Local().Format("15:04:05")
	}
	fmt.Fprintf(g.io.ErrOut, "Warning: the bridge cannot reach Slurm%s (%s); states below may be out of date.\n", since, m.Slurm.Error)
}
