package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/det-slurm/bridge/slurm"
)

// Slurm's error numbers for a job it does not know and one already done
// (slurm_errno.h: ESLURM_INVALID_JOB_ID, ESLURM_ALREADY_DONE).
const (
	errInvalidJobID = 2017
	errAlreadyDone  = 2021
)

// jobIDPattern is a job id as the bridge stores it: 123, or 123_4 for an
// array task (slurmrestd's job/{job_id} takes both).
var jobIDPattern = regexp.MustCompile(`^[0-9]{1,10}(_[0-9]{1,10})?$`)

// unknownJob reports whether err says Slurm does not know the job.
func unknownJob(err error) bool {
	var e *Error
	return errors.As(err, &e) && (slices.Contains(e.Numbers, errInvalidJobID) || e.says("Invalid job id") || e.says("unknown job"))
}

// Cancel kills the job as scancel does (SIGKILL to the whole job), as the
// bridge's operator user. Cancelling a finished or unknown job is not an
// error.
func (c *Client) Cancel(ctx context.Context, id string) error {
	if !jobIDPattern.MatchString(id) {
		return fmt.Errorf("cancel job %q: not a job id", id)
	}
	err := c.call(ctx, "DELETE", apiPath+"/job/"+id, c.cfg.User, nil, nil, "")
	var e *Error
	if err == nil || unknownJob(err) || errors.As(err, &e) && (slices.Contains(e.Numbers, errAlreadyDone) || e.says("already completing or completed")) {
		return nil
	}
	return fmt.Errorf("cancel job %s: %w", id, err)
}

// TimeLimit reads one job's time limit and run time.
func (c *Client) TimeLimit(ctx context.Context, id string) (slurm.Limit, error) {
	if !jobIDPattern.MatchString(id) {
		return slurm.Limit{}, fmt.Errorf("time limit of job %q: not a job id", id)
	}
	var resp struct {
		Jobs []json.RawMessage `json:"jobs"`
	}
	if err := c.call(ctx, "GET", apiPath+"/job/"+id, c.cfg.User, nil, &resp, ""); err != nil {
		if unknownJob(err) {
			return slurm.Limit{}, slurm.ErrJobGone
		}
		return slurm.Limit{}, fmt.Errorf("time limit of job %s: %w", id, err)
	}
	now := c.now()
	jobs, recs, _ := jobsOf(resp.Jobs, now)
	for i, j := range jobs {
		if j.ID != id {
			continue
		}
		if j.Err != nil {
			return slurm.Limit{}, fmt.Errorf("time limit of job %s: %w", id, j.Err)
		}
		return slurm.Limit{State: j.State, Limit: recs[i].limit(), Used: recs[i].runTime(now)}, nil
	}
	return slurm.Limit{}, slurm.ErrJobGone
}

// SetTimeLimit sets a job's time limit, rounded up to whole minutes, as
// the bridge's operator user (raising a limit takes an operator).
func (c *Client) SetTimeLimit(ctx context.Context, id string, limit time.Duration) error {
	if !jobIDPattern.MatchString(id) {
		return fmt.Errorf("set the time limit of job %q: not a job id", id)
	}
	if limit <= 0 {
		return fmt.Errorf("set the time limit of job %s: %s is not a time limit", id, limit)
	}
	body := map[string]any{"time_limit": slurm.Minutes(limit)}
	if err := c.call(ctx, "POST", apiPath+"/job/"+id, c.cfg.User, body, nil, ""); err != nil {
		return fmt.Errorf("set the time limit of job %s: %w", id, err)
	}
	return nil
}
