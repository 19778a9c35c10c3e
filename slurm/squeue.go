package slurm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// squeue's text output is read as records, not lines. Job names (and any
// text a user can set on their own job with `scontrol update`) may hold
// "|" and newlines, so:
//
//   - Query asks for no field a user sets; Active needs the job name and
//     prints it last, so a "|" in it stays in it.
//   - Every record starts with a marker that is random per call and given
//     to squeue in its environment (SQUEUE_FORMAT), which other users
//     cannot read (/proc/<pid>/environ is the owner's only). A newline in
//     a name therefore cannot start a record of its own: a name cannot
//     forge or break another job's record.
//   - A record that still does not read is that job's problem only
//     (Job.Err); it never fails the call.
//
// `squeue --json` would avoid all this, but on Slurm 22.05 it ignores
// -j and --states and dumps every job of the cluster with ~100 fields
// each, on every tick.

// queryFields: job id, state, start time, time left, user, QOS, nodes,
// reason. No field is set by users; reason, the one free text, is last.
const queryFields = "%i|%T|%S|%L|%u|%q|%N|%r"

// activeFields: job id, state, user, name; the name is the user's own
// text and comes last.
const activeFields = "%i|%T|%u|%j"

var (
	errUnreadable = errors.New("squeue printed a record for this job that cannot be read")
	errNoRecord   = errors.New("squeue printed output that cannot be told apart by job, and no record for this job")
)

// newMarker returns a record marker no job's text can contain: random
// per call, letters and digits only.
func newMarker() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return "R" + hex.EncodeToString(b)
}

// squeue runs squeue with a marked format given in its environment.
func (c *CLI) squeue(ctx context.Context, fields string, args ...string) (out []byte, marker string, err error) {
	mk := c.marker
	if mk == nil {
		mk = newMarker
	}
	marker = mk()
	// Any other SQUEUE_* variable (a format, a filter, a sort) would
	// change what is printed: squeue gets none of them.
	env := make([]string, 0, len(c.Env)+2)
	for _, kv := range c.Env {
		if !strings.HasPrefix(kv, "SQUEUE_") && !strings.HasPrefix(kv, "SLURM_TIME_FORMAT=") {
			env = append(env, kv)
		}
	}
	env = append(env, "SQUEUE_FORMAT="+marker+"|"+fields, "SLURM_TIME_FORMAT=standard")
	out, err = c.run(ctx, Cmd{Name: "squeue", Args: append([]string{"-h"}, args...), Env: env})
	return out, marker, err
}

// Query asks Slurm about all given jobs in one squeue call. Jobs Slurm no
// longer knows are absent from the result; a job whose record cannot be
// read is present with Err set (its state is unknown, not ended).
func (c *CLI) Query(ctx context.Context, ids []string) (map[string]Job, error) {
	jobs := map[string]Job{}
	if len(ids) == 0 {
		return jobs, nil
	}
	out, marker, err := c.squeue(ctx, queryFields, "--states=all", "-j", strings.Join(ids, ","))
	if err != nil {
		var ce *CommandError
		if errors.As(err, &ce) && strings.Contains(ce.Stderr, "Invalid job id") {
			return jobs, nil
		}
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	all, stray := ParseSqueue(out, marker)
	for _, id := range ids {
		if j, ok := all[id]; ok {
			jobs[id] = j
		} else if stray > 0 {
			// Something was printed that belongs to no job: this job may
			// be in it, so it is not known to be gone.
			jobs[id] = Job{ID: id, Err: errNoRecord}
		}
	}
	return jobs, nil
}

// ParseSqueue parses squeue output printed with marker + "|" + queryFields
// as its format. Each record yields one job, keyed by id; a record whose
// fields do not read yields a Job with only ID and Err. stray counts the
// pieces of output that could not be tied to any job id.
func ParseSqueue(out []byte, marker string) (jobs map[string]Job, stray int) {
	jobs = map[string]Job{}
	recs, stray := splitRecords(out, marker)
	for _, rec := range recs {
		f := strings.SplitN(rec, "|", 8)
		j, ok := recordJob(f, 8)
		if !ok {
			stray++
			continue
		}
		if j.Err == nil {
			j.StartTime = parseStart(f[2])
			j.TimeLeft = ParseTimeLeft(f[3])
			j.User, j.QOS = f[4], f[5]
			j.NodeList = f[6]
			j.Nodes, j.NodesErr = ExpandHostlist(f[6])
			j.Reason = Printable(f[7])
		}
		if _, dup := jobs[j.ID]; dup {
			j = Job{ID: j.ID, Err: errUnreadable}
		}
		jobs[j.ID] = j
	}
	return jobs, stray
}

// Active lists every pending or running job of the cluster, in one call.
// A job whose record cannot be read is listed with only ID and Err set.
func (c *CLI) Active(ctx context.Context) ([]Job, error) {
	out, marker, err := c.squeue(ctx, activeFields, "--states=PENDING,RUNNING,CONFIGURING,SUSPENDED,COMPLETING")
	if err != nil {
		return nil, fmt.Errorf("list active jobs: %w", err)
	}
	return ParseActive(out, marker), nil
}

// ParseActive parses squeue output printed with marker + "|" +
// activeFields as its format.
func ParseActive(out []byte, marker string) []Job {
	recs, _ := splitRecords(out, marker)
	jobs := make([]Job, 0, len(recs))
	for _, rec := range recs {
		f := strings.SplitN(rec, "|", 4)
		j, ok := recordJob(f, 4)
		if !ok {
			continue
		}
		if j.Err == nil {
			j.User, j.Name = f[2], Printable(f[3])
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// splitRecords cuts squeue output into records: each starts with
// marker + "|" at the start of a line and runs up to the next one, so a
// newline inside a field stays in its record. Text before the first
// record (squeue prints none) counts as stray.
func splitRecords(out []byte, marker string) (recs []string, stray int) {
	parts := strings.Split("\n"+string(out), "\n"+marker+"|")
	if strings.TrimSpace(parts[0]) != "" {
		stray++
	}
	for _, p := range parts[1:] {
		recs = append(recs, strings.TrimSuffix(p, "\n"))
	}
	return recs, stray
}

// recordJob reads a record's job id and state. ok is false when not even
// the id reads; a record with a readable id but the wrong shape gives a
// Job with Err set.
func recordJob(f []string, want int) (Job, bool) {
	if !validJobID(f[0]) {
		return Job{}, false
	}
	j := Job{ID: f[0]}
	if len(f) != want || !ValidState(f[1]) {
		j.Err = errUnreadable
		return j, true
	}
	j.State = f[1]
	return j, true
}

// validJobID accepts squeue's %i: 123, 123_4 (array task), 123_[1-5]
// (pending array), 123+0 (het job component).
func validJobID(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789_+[]-,%", c) {
			return false
		}
	}
	return true
}

// ValidState accepts Slurm's state names (RUNNING, NODE_FAIL, ...).
func ValidState(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && c != '_' {
			return false
		}
	}
	return true
}

// parseStart reads %S; zero for N/A or anything else.
func parseStart(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, time.Local)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Printable replaces control characters (newlines included) in text a
// user may have set, so it is shown and logged on one line.
func Printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// ParseTimeLeft reads squeue's %L: [days-]hours:minutes:seconds, or
// minutes:seconds; -1 for UNLIMITED, NOT_SET or anything else.
func ParseTimeLeft(s string) time.Duration {
	days := 0
	if d, rest, ok := strings.Cut(s, "-"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return -1
		}
		days, s = n, rest
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return -1
	}
	total := 0
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return -1
		}
		total = total*60 + n
	}
	return time.Duration(days)*24*time.Hour + time.Duration(total)*time.Second
}
