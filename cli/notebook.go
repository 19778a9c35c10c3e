package cli

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/client"
)

func newNotebookCmd(g *globals) *cobra.Command {
	k := client.NotebookKind
	cmd := &cobra.Command{Use: "notebook", Aliases: []string{"notebooks"}, Short: "Start, list, follow and kill Jupyter notebooks"}
	cmd.AddCommand(newStartCmd(g), newListCmd(g, k), newKillCmd(g, k), newLogsCmd(g, k), newConfigCmd(g, k),
		newExtendCmd(g, k), newRelaunchCmd(g, k))
	return cmd
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
	return cmd
}

func runStart(cmd *cobra.Command, g *globals, o *startOptions) error {
	req, err := o.launchRequest(g)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	c, err := g.client(ctx)
	if err != nil {
		return err
	}
	launched, err := c.Launch(ctx, client.NotebookKind, req)
	if err != nil {
		return err
	}
	if o.preview {
		return printConfig(g, launched.Config)
	}
	nb := &launched.Task
	if o.detach {
		fmt.Fprintln(g.io.Out, nb.ID)
		return nil
	}
	fmt.Fprintf(g.io.Out, "Scheduling notebook %s (id: %s)...\n", nb.Description, nb.ID)
	nb, err = waitRunning(cmd, g, c, client.NotebookKind, nb)
	if err != nil {
		return err
	}
	address := strings.TrimSuffix(c.Master, "/") + nb.ServiceAddress
	fmt.Fprintf(g.io.Out, "Jupyter Notebook is running at: %s\n", address)
	if !o.noBrowser {
		openBrowser(address)
	}
	return nil
}

// openBrowser opens address in the desktop's browser, where there is one.
func openBrowser(address string) {
	if os.Getenv("DISPLAY") == "" {
		return
	}
	if p, err := exec.LookPath("xdg-open"); err == nil {
		_ = exec.Command(p, address).Start()
	}
}
