// Command benchrun runs the benchmark suite (bench/run.sh calls it) and,
// as subcommands, the processes the suite measures: the static backend
// and a real bridge on a temporary store.
package main

import (
	"fmt"
	"os"

	"github.com/det-slurm/bridge/bench/internal/suite"
)

func main() {
	if err := suite.Main(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}
