package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/det-slurm/bridge/slurm"
)

// jobRecord is the part of a v0.0.38 job_response_properties the bridge
// reads.
type jobRecord struct {
	JobID       int64  `json:"job_id"`
	Name        string `json:"name"`
	JobState    string `json:"job_state"`
	StateReason string `json:"state_reason"`
	Nodes       string `json:"nodes"`
	StartTime   int64  `json:"start_time"`
	EndTime     int64  `json:"end_time"`
	SuspendTime int64  `json:"suspend_time"`
	PreSusTime  int64  `json:"pre_sus_time"`
	TimeLimit   *int64 `json:"time_limit"` // minutes; null when UNLIMITED
	UserName    string `json:"user_name"`
	QOS         string `json:"qos"`
}

var (
	errUnreadable = errors.New("slurmrestd answered a record for this job that cannot be read")
	errNoRecord   = errors.New("slurmrestd answered a record that cannot be tied to a job, and none for this job")
)

// jobsOf decodes a jobs response record by record: a record that does
// not read is that job's problem (Job.Err), or, without even a job id,
// counted as stray.
func jobsOf(raw []json.RawMessage, now time.Time) (jobs []slurm.Job, recs []jobRecord, stray int) {
	for _, r := range raw {
		var rec jobRecord
		if err := json.Unmarshal(r, &rec); err != nil || !slurm.ValidState(rec.JobState) {
			var id struct {
				JobID int64 `json:"job_id"`
			}
			if json.Unmarshal(r, &id) != nil || id.JobID <= 0 {
				stray++
				continue
			}
			jobs, recs = append(jobs, slurm.Job{ID: strconv.FormatInt(id.JobID, 10), Err: errUnreadable}), append(recs, jobRecord{})
			continue
		}
		if rec.JobID <= 0 {
			stray++
			continue
		}
		jobs, recs = append(jobs, rec.job(now)), append(recs, rec)
	}
	return jobs, recs, stray
}

// job is the record as squeue's fields would give it.
func (r jobRecord) job(now time.Time) slurm.Job {
	j := slurm.Job{
		ID: strconv.FormatInt(r.JobID, 10), Name: slurm.Printable(r.Name), State: r.JobState,
		Reason: slurm.Printable(r.StateReason), NodeList: r.Nodes, User: r.UserName, QOS: r.QOS, TimeLeft: -1,
	}
	j.Nodes, j.NodesErr = slurm.ExpandHostlist(r.Nodes)
	if r.StartTime > 0 {
		j.StartTime = time.Unix(r.StartTime, 0)
	}
	if lim := r.limit(); lim >= 0 {
		j.TimeLeft = max(0, lim-r.runTime(now))
	}
	return j
}

// limit is the time limit; -1 when unlimited.
func (r jobRecord) limit() time.Duration {
	if r.TimeLimit == nil || *r.TimeLimit < 0 || *r.TimeLimit >= 0xfffffffe {
		return -1
	}
	return time.Duration(*r.TimeLimit) * time.Minute
}

// runTime is how long the job has run, as squeue's %M counts it.
func (r jobRecord) runTime(now time.Time) time.Duration {
	var secs int64
	switch {
	case r.JobState == "PENDING" || r.StartTime == 0:
		return 0
	case r.JobState == "SUSPENDED":
		secs = r.PreSusTime
	default:
		end := now.Unix()
		if !running[r.JobState] && r.EndTime > 0 {
			end = r.EndTime
		}
		if r.SuspendTime > 0 {
			secs = end - r.SuspendTime + r.PreSusTime
		} else {
			secs = end - r.StartTime
		}
	}
	return time.Duration(max(0, secs)) * time.Second
}

// running are the states whose run time grows.
var running = map[string]bool{"RUNNING": true, "CONFIGURING": true, "COMPLETING": true, "RESIZING": true, "SIGNALING": true, "STAGE_OUT": true}

// active are the states squeue --states=PENDING,RUNNING,CONFIGURING,
// SUSPENDED,COMPLETING lists (flags such as REQUEUED sit on a pending job).
var active = map[string]bool{
	"PENDING": true, "RUNNING": true, "CONFIGURING": true, "SUSPENDED": true, "COMPLETING": true,
	"REQUEUED": true, "REQUEUE_FED": true, "REQUEUE_HOLD": true, "RESIZING": true, "SIGNALING": true, "STAGE_OUT": true,
}

// allJobs gets every job of the cluster (22.05 filters nothing).
func (c *Client) allJobs(ctx context.Context) ([]slurm.Job, []jobRecord, int, error) {
	var resp struct {
		Jobs []json.RawMessage `json:"jobs"`
	}
	if err := c.call(ctx, "GET", apiPath+"/jobs/", c.cfg.User, nil, &resp, ""); err != nil {
		return nil, nil, 0, err
	}
	jobs, recs, stray := jobsOf(resp.Jobs, c.now())
	return jobs, recs, stray, nil
}

// Query asks slurmrestd for every job and keeps the asked ones. Jobs
// Slurm no longer knows are absent; one whose record does not read is
// present with Err set.
func (c *Client) Query(ctx context.Context, ids []string) (map[string]slurm.Job, error) {
	out := map[string]slurm.Job{}
	if len(ids) == 0 {
		return out, nil
	}
	jobs, _, stray, err := c.allJobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	all := map[string]slurm.Job{}
	for _, j := range jobs {
		if _, dup := all[j.ID]; dup {
			j = slurm.Job{ID: j.ID, Err: errUnreadable}
		}
		all[j.ID] = j
	}
	for _, id := range ids {
		if j, ok := all[id]; ok {
			out[id] = j
		} else if stray > 0 {
			out[id] = slurm.Job{ID: id, Err: errNoRecord}
		}
	}
	return out, nil
}

// Active lists every pending or running job of the cluster with the
// fields squeue's Active gives: id, state, user and name.
func (c *Client) Active(ctx context.Context) ([]slurm.Job, error) {
	jobs, _, _, err := c.allJobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list active jobs: %w", err)
	}
	out := make([]slurm.Job, 0, len(jobs))
	for _, j := range jobs {
		if j.Err != nil {
			out = append(out, slurm.Job{ID: j.ID, Err: j.Err})
		} else if active[j.State] {
			out = append(out, slurm.Job{ID: j.ID, State: j.State, User: j.User, Name: j.Name})
		}
	}
	return out, nil
}
