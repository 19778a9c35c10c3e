package slurm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Limit is a job's time limit as Slurm has it now.
type Limit struct {
	State string
	// Limit is the job's time limit; -1 when it has none (UNLIMITED).
	Limit time.Duration
	// Used is how long the job has run (its current run, after a requeue).
	Used time.Duration
}

// limitFields: job id, state, time limit, time used. No field is set by
// users.
const limitFields = "%i|%T|%l|%M"

// ErrJobGone is returned when Slurm no longer knows a job.
var ErrJobGone = errors.New("Slurm no longer knows the job")

// TimeLimit asks squeue for one job's time limit and time used.
func (c *CLI) TimeLimit(ctx context.Context, id string) (Limit, error) {
	if !validJobID(id) {
		return Limit{}, fmt.Errorf("time limit of job %q: not a job id", id)
	}
	out, marker, err := c.squeue(ctx, limitFields, "--states=all", "-j", id)
	if err != nil {
		var ce *CommandError
		if errors.As(err, &ce) && strings.Contains(ce.Stderr, "Invalid job id") {
			return Limit{}, ErrJobGone
		}
		return Limit{}, fmt.Errorf("time limit of job %s: %w", id, err)
	}
	return ParseLimit(out, marker, id)
}

// ParseLimit reads squeue's output printed with marker + "|" + limitFields
// for the job id.
func ParseLimit(out []byte, marker, id string) (Limit, error) {
	recs, _ := splitRecords(out, marker)
	for _, rec := range recs {
		f := strings.SplitN(rec, "|", 4)
		j, ok := recordJob(f, 4)
		if !ok || j.ID != id {
			continue
		}
		if j.Err != nil {
			return Limit{}, fmt.Errorf("time limit of job %s: %w", id, j.Err)
		}
		l := Limit{State: j.State, Limit: ParseTimeLeft(strings.TrimSpace(f[2])), Used: ParseTimeLeft(strings.TrimSpace(f[3]))}
		if l.Used < 0 {
			l.Used = 0
		}
		return l, nil
	}
	return Limit{}, ErrJobGone
}

// SetTimeLimit sets a job's time limit to limit, rounded up to whole
// minutes (Slurm's resolution). Raising a limit takes a Slurm operator,
// administrator, SlurmUser or root.
func (c *CLI) SetTimeLimit(ctx context.Context, id string, limit time.Duration) error {
	if !validJobID(id) {
		return fmt.Errorf("set the time limit of job %q: not a job id", id)
	}
	if limit <= 0 {
		return fmt.Errorf("set the time limit of job %s: %s is not a time limit", id, limit)
	}
	args := []string{"update", "JobId=" + id, "TimeLimit=" + strconv.Itoa(Minutes(limit))}
	if _, err := c.run(ctx, Cmd{Name: "scontrol", Args: args}); err != nil {
		return fmt.Errorf("set the time limit of job %s: %w", id, err)
	}
	return nil
}

// Minutes is d in whole minutes, rounded up, as Slurm counts time limits.
func Minutes(d time.Duration) int {
	return int(math.Ceil(d.Minutes()))
}

// ParseTimeLimit reads a time limit in Slurm's input format, as sbatch
// --time and slurm.conf take it: "minutes", "minutes:seconds",
// "hours:minutes:seconds", "days-hours", "days-hours:minutes" or
// "days-hours:minutes:seconds".
func ParseTimeLimit(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a Slurm time (minutes, minutes:seconds, hours:minutes:seconds, days-hours, days-hours:minutes or days-hours:minutes:seconds)", s)
	s = strings.TrimSpace(s)
	num := func(p string) (int, bool) {
		if p == "" || len(p) > 6 {
			return 0, false
		}
		n, err := strconv.Atoi(p)
		return n, err == nil && n >= 0
	}
	days := 0
	rest := s
	if d, r, ok := strings.Cut(s, "-"); ok {
		n, good := num(d)
		if !good {
			return 0, bad
		}
		days, rest = n, r
	}
	parts := strings.Split(rest, ":")
	vals := make([]int, len(parts))
	for i, p := range parts {
		n, ok := num(p)
		if !ok {
			return 0, bad
		}
		vals[i] = n
	}
	var h, m, sec int
	switch {
	case days > 0 || strings.Contains(s, "-"):
		switch len(vals) {
		case 1:
			h = vals[0]
		case 2:
			h, m = vals[0], vals[1]
		case 3:
			h, m, sec = vals[0], vals[1], vals[2]
		default:
			return 0, bad
		}
	default:
		switch len(vals) {
		case 1:
			m = vals[0]
		case 2:
			m, sec = vals[0], vals[1]
		case 3:
			h, m, sec = vals[0], vals[1], vals[2]
		default:
			return 0, bad
		}
	}
	return time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second, nil
}

// FormatTimeLimit writes d as Slurm prints time limits:
// [days-]hours:minutes:seconds.
func FormatTimeLimit(d time.Duration) string {
	if d < 0 {
		return "UNLIMITED"
	}
	total := int64(d.Round(time.Second) / time.Second)
	days, rest := total/86400, total%86400
	s := fmt.Sprintf("%d:%02d:%02d", rest/3600, rest%3600/60, rest%60)
	if days > 0 {
		s = fmt.Sprintf("%d-%02d:%02d:%02d", days, rest/3600, rest%3600/60, rest%60)
	}
	return s
}
