// Command det-launcher runs inside a Slurm job: it starts the notebook
// server of one task in its container and reports it to the bridge. On the
// login node the bridge runs `det-launcher check-image PATH` and
// `det-launcher resolve PATH...` as the job's user to check an image and
// bind mounts before it queues the job.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/det-slurm/bridge/launcher"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "check-image" {
		os.Exit(launcher.RunCheckImage(os.Stdout, os.Args[2]))
	}
	if len(os.Args) >= 3 && os.Args[1] == "resolve" {
		os.Exit(launcher.RunResolve(os.Stdout, os.Args[2:]))
	}
	if len(os.Args) != 4 || os.Args[1] != "run" || os.Args[2] != "--spec" {
		fmt.Fprintln(os.Stderr, "usage: det-launcher run --spec <jobdir>/task.json\n       det-launcher check-image PATH\n       det-launcher resolve PATH...")
		os.Exit(2)
	}
	// The launcher's own lines start with their time, like the notebook
	// server's lines it copies, so the bridge can merge logs in time order.
	log := slog.New(slog.NewTextHandler(stampWriter{os.Stderr}, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})).With("component", "det-launcher")
	spec, err := launcher.ReadSpec(os.Args[3])
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	os.Exit(launcher.Run(context.Background(), spec, launcher.Options{Logger: log}))
}

// stampWriter prefixes each write (one log record) with the time.
type stampWriter struct{ w io.Writer }

func (s stampWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(s.w, time.Now().UTC().Format(time.RFC3339Nano)+" "); err != nil {
		return 0, err
	}
	return s.w.Write(p)
}
