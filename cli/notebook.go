package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"

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
		RunE:  g.startRunE(o, client.NotebookKind, runStartNotebook),
	}
	f := cmd.Flags()
	o.addConfigFlags(cmd)
	f.BoolVar(&o.noBrowser, "no-browser", false, "do not open a browser when the notebook is ready")
	f.BoolVar(&o.preview, "preview", false, "print the merged config and submit nothing")
	return cmd
}

// runStartNotebook launches a notebook and waits until it runs, then
// prints its address and opens it in a browser; or prints the config it
// would run with (preview), or its id (detach).
func runStartNotebook(ctx context.Context, o launchOptions, c bridgeClient, con *console) error {
	launched, err := c.Launch(ctx, client.NotebookKind, o.request)
	if err != nil {
		return err
	}
	if o.preview {
		return con.printConfig(launched.Config)
	}
	nb := &launched.Task
	if o.detach {
		fmt.Fprintln(con.Out, nb.ID)
		return nil
	}
	fmt.Fprintf(con.Out, "Scheduling notebook %s (id: %s)...\n", nb.Description, nb.ID)
	nb, err = waitRunning(ctx, c, client.NotebookKind, nb, con.Out)
	if err != nil {
		return err
	}
	showNotebook(c, con, nb.ServiceAddress, o.noBrowser)
	return nil
}

// showNotebook prints a running notebook's address and, unless
// noBrowser, opens it in the desktop's browser.
func showNotebook(c bridgeClient, con *console, serviceAddress string, noBrowser bool) {
	address := c.URL(serviceAddress)
	fmt.Fprintf(con.Out, "Jupyter Notebook is running at: %s\n", address)
	if !noBrowser {
		openBrowser(address)
	}
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
