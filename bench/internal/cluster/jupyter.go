package cluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"

	"github.com/det-slurm/bridge/bridge/jobdir"
	"github.com/det-slurm/bridge/jobspec"
)

// Jupyter is a direct-mode notebook's Jupyter as seen from the node: the
// TCP port its launcher holds for it (Jupyter itself listens on a private
// Unix socket behind that port) and its token.
type Jupyter struct {
	Port  int
	Token string
}

// portLine is det-launcher's log line, in the job's output.log, that
// names the port it holds.
var portLine = regexp.MustCompile(`msg="starting notebook server" .*\bport=(\d+)`)

// FindJupyter reads the token from the task's spec (task.json in its job
// folder dir, as the bridge wrote it) and the port from the launcher's
// log in output.log, both through jobdir.Open, which follows no link.
func FindJupyter(dir string) (Jupyter, error) {
	data, err := jobdir.ReadFile(dir, "task.json", 1<<20)
	if err != nil {
		return Jupyter{}, fmt.Errorf("read the task's spec: %w", err)
	}
	var spec jobspec.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return Jupyter{}, fmt.Errorf("read the task's spec %s/task.json: %w", dir, err)
	}
	if spec.ProxyMode != jobspec.ProxyModeDirect || spec.JupyterToken == "" {
		return Jupyter{}, fmt.Errorf("task %s is in proxy mode %q with token set %v: want a direct-mode notebook",
			spec.TaskID, spec.ProxyMode, spec.JupyterToken != "")
	}
	f, err := jobdir.Open(dir, "output.log")
	if err != nil {
		return Jupyter{}, fmt.Errorf("read the job's output: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if m := portLine.FindStringSubmatch(sc.Text()); m != nil {
			port, err := strconv.Atoi(m[1])
			if err != nil || port <= 0 {
				return Jupyter{}, fmt.Errorf("the launcher's port in %s/output.log: %q", dir, m[1])
			}
			return Jupyter{Port: port, Token: spec.JupyterToken}, nil
		}
	}
	return Jupyter{}, fmt.Errorf("no %q line with the launcher's port in %s/output.log", "starting notebook server", dir)
}
