package cluster

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// Stats are the controller's RPC counts (sdiag) since the last reset.
type Stats struct {
	ByType map[string]int
	ByUser map[string]int
}

// JobInfo is the number of job-information requests (what squeue sends),
// single-job or not.
func (s Stats) JobInfo() int {
	return s.ByType["REQUEST_JOB_INFO"] + s.ByType["REQUEST_JOB_INFO_SINGLE"]
}

var (
	reType = regexp.MustCompile(`^\s+([A-Z_0-9]+)\s+\(\s*\d+\)\s+count:(\d+)`)
	reUser = regexp.MustCompile(`^\s+(\S+)\s+\(\s*\d+\)\s+count:(\d+)`)
)

// ParseSdiag reads sdiag's output.
func ParseSdiag(out string) (Stats, error) {
	s := Stats{ByType: map[string]int{}, ByUser: map[string]int{}}
	section := ""
	seen := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Remote Procedure Call statistics by message type"):
			section, seen = "type", true
			continue
		case strings.HasPrefix(line, "Remote Procedure Call statistics by user"):
			section = "user"
			continue
		case line != "" && !strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, " "):
			section = ""
		}
		switch section {
		case "type":
			if m := reType.FindStringSubmatch(line); m != nil {
				s.ByType[m[1]], _ = strconv.Atoi(m[2])
			}
		case "user":
			if m := reUser.FindStringSubmatch(line); m != nil {
				s.ByUser[m[1]], _ = strconv.Atoi(m[2])
			}
		}
	}
	if !seen {
		return s, fmt.Errorf("sdiag: no RPC statistics in its output:\n%s", out)
	}
	return s, nil
}

// ReadSdiag runs sdiag with env (SLURM_CONF) and parses it.
func ReadSdiag(ctx context.Context, env []string) (Stats, error) {
	cmd := exec.CommandContext(ctx, "sdiag")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return Stats{}, fmt.Errorf("sdiag: %w: %s", err, out)
	}
	return ParseSdiag(string(out))
}

// ResetSdiag zeroes the counters (sdiag -r; root or SlurmUser only).
func ResetSdiag(ctx context.Context, env []string) error {
	cmd := exec.CommandContext(ctx, "sdiag", "-r")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("sdiag -r: %w: %s", err, out)
	}
	return nil
}
