package rest

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/det-slurm/bridge/slurm"
)

// Submit queues the batch script's text as the job's owner: the token is
// the owner's, so Slurm runs the job as that user. It is sent once, never
// retried (slurmrestd could have queued it before an error).
func (c *Client) Submit(ctx context.Context, r slurm.SubmitRequest) (string, error) {
	if err := c.checkSubmitter(r.User); err != nil {
		return "", fmt.Errorf("submit batch job: %w", err)
	}
	if r.Text == "" {
		return "", errors.New("submit batch job: no script text given (slurmrestd takes the script itself, not its path)")
	}
	job, err := JobFields(r.Args)
	if err != nil {
		return "", fmt.Errorf("submit batch job: %w", err)
	}
	env, err := c.environment(r.User)
	if err != nil {
		return "", fmt.Errorf("submit batch job: %w", err)
	}
	job["environment"] = env
	var resp struct {
		JobID int `json:"job_id"`
	}
	err = c.call(ctx, "POST", apiPath+"/job/submit", r.User, map[string]any{"script": r.Text, "job": job}, &resp, "Batch job submission failed")
	if resp.JobID > 0 {
		// Queued, with a warning in errors: the job exists.
		return strconv.Itoa(resp.JobID), nil
	}
	if err != nil {
		return "", fmt.Errorf("submit batch job: %w", err)
	}
	return "", errors.New("submit batch job: slurmrestd answered no job id")
}

// checkSubmitter refuses to mint a token for a job of root or the
// SlurmUser: the job must run as its owner, whose token can do no more
// than the owner can.
func (c *Client) checkSubmitter(name string) error {
	if name == "" {
		return errors.New("no POSIX user to run the job as (slurmrestd submits as the job's owner)")
	}
	if name == "root" || name == c.cfg.SlurmUser || name == "slurm" {
		return fmt.Errorf("will not submit a job as %s through slurmrestd: jobs run as their owner, never as root or the SlurmUser", name)
	}
	u, err := c.lookupUser(name)
	if err != nil {
		return fmt.Errorf("POSIX user %s: %w", name, err)
	}
	if u.Uid == "0" {
		return fmt.Errorf("will not submit a job as %s (uid 0) through slurmrestd", name)
	}
	return nil
}

// environment is the job's whole environment (slurmrestd replaces
// sbatch's --export=ALL with it): a minimal login-like one for the
// owner, plus the site's extras.
func (c *Client) environment(name string) (map[string]string, error) {
	u, err := c.lookupUser(name)
	if err != nil {
		return nil, fmt.Errorf("POSIX user %s: %w", name, err)
	}
	env := map[string]string{
		"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": u.HomeDir, "USER": u.Username, "LOGNAME": u.Username, "LANG": "C.UTF-8",
	}
	for k, v := range c.cfg.Env {
		env[k] = v
	}
	return env, nil
}
