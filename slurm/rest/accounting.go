package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/det-slurm/bridge/slurm"
)

// dbJob is the part of a dbv0.0.38 job the bridge reads.
type dbJob struct {
	JobID int64 `json:"job_id"`
	State struct {
		Current string `json:"current"`
	} `json:"state"`
	ExitCode struct {
		ReturnCode int `json:"return_code"`
	} `json:"exit_code"`
}

// Finished asks accounting (slurmdbd, through slurmrestd) for a job's
// final state and exit code, as sacct's State and ExitCode give them. It
// returns slurm.ErrNoAccounting when slurmrestd has no accounting (its
// dbv0.0.38 plugin is not loaded, or Slurm says storage is disabled), and
// an empty state when accounting does not know the job.
func (c *Client) Finished(ctx context.Context, id string) (string, int, error) {
	if !jobIDPattern.MatchString(id) {
		return "", 0, fmt.Errorf("ask accounting about job %q: not a job id", id)
	}
	var resp struct {
		Jobs []json.RawMessage `json:"jobs"`
	}
	err := c.call(ctx, "GET", dbAPIPath+"/job/"+id, c.cfg.User, nil, &resp, "")
	if e := (*Error)(nil); errors.As(err, &e) {
		switch {
		case e.Status == 404 || e.says("accounting storage is disabled") || e.says("Accounting storage is disabled"):
			return "", 0, slurm.ErrNoAccounting
		case unknownJob(err) || e.says("Nothing found"):
			return "", 0, nil
		}
	}
	if err != nil {
		return "", 0, fmt.Errorf("ask accounting about job %s: %w", id, err)
	}
	want, _, _ := strings.Cut(id, "_")
	for _, r := range resp.Jobs {
		var j dbJob
		if json.Unmarshal(r, &j) != nil || strconv.FormatInt(j.JobID, 10) != want {
			continue
		}
		state, _, _ := strings.Cut(j.State.Current, " ")
		return state, j.ExitCode.ReturnCode, nil
	}
	return "", 0, nil
}
