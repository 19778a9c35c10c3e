package bridge

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// logQuery is what a request for a task's logs asks for, in Determined's
// query parameters (see handleLogs).
type logQuery struct {
	follow bool
	limit  int
	desc   bool
	after  time.Time // zero: no bound
	before time.Time

	// Determined's filters; a nil set lets everything through.
	levels, sources, stdtypes, agents, allocations, containers map[string]bool
	ranks                                                      bool // rankIds given: no line of the bridge has a rank
	search                                                     string
	re                                                         *regexp.Regexp
	filtered                                                   bool // any filter is set
}

// parseLogQuery reads Determined's TaskLogs parameters: follow, limit,
// orderBy, timestampAfter, timestampBefore, levels, sources, stdtypes,
// agentIds, allocationIds, containerIds, rankIds, searchText and
// enableRegex (list parameters repeat).
func parseLogQuery(q url.Values) (logQuery, error) {
	var lq logQuery
	var err error
	if lq.follow, err = queryBool(q, "follow"); err != nil {
		return lq, err
	}
	if lq.limit, err = queryInt(q, "limit"); err != nil {
		return lq, err
	}
	if lq.limit < 0 {
		return lq, fmt.Errorf("limit: %d is negative", lq.limit)
	}
	switch o := q.Get("orderBy"); o {
	case "", api.OrderByUnspecified, api.OrderByAsc:
	case api.OrderByDesc:
		lq.desc = true
	default:
		return lq, fmt.Errorf("orderBy: %q is not %s, %s or %s", o, api.OrderByUnspecified, api.OrderByAsc, api.OrderByDesc)
	}
	for name, t := range map[string]*time.Time{"timestampAfter": &lq.after, "timestampBefore": &lq.before} {
		if v := q.Get(name); v != "" {
			if *t, err = time.Parse(time.RFC3339Nano, v); err != nil {
				return lq, fmt.Errorf("%s: %q is not an RFC 3339 time", name, v)
			}
		}
	}
	set := func(name string) map[string]bool {
		vs := q[name]
		if len(vs) == 0 {
			return nil
		}
		m := make(map[string]bool, len(vs))
		for _, v := range vs {
			m[v] = true
		}
		return m
	}
	lq.levels, lq.sources, lq.stdtypes = set("levels"), set("sources"), set("stdtypes")
	lq.agents, lq.allocations, lq.containers = set("agentIds"), set("allocationIds"), set("containerIds")
	lq.ranks = len(q["rankIds"]) > 0
	lq.search = q.Get("searchText")
	regex, err := queryBool(q, "enableRegex")
	if err != nil {
		return lq, err
	}
	if regex && lq.search != "" {
		if lq.re, err = regexp.Compile(lq.search); err != nil {
			return lq, fmt.Errorf("searchText: %w", err)
		}
	}
	lq.filtered = !lq.after.IsZero() || !lq.before.IsZero() || lq.levels != nil || lq.sources != nil || lq.stdtypes != nil ||
		lq.agents != nil || lq.allocations != nil || lq.containers != nil || lq.ranks || lq.search != ""
	return lq, nil
}

// matches reports whether a shaped log line passes the query's filters.
func (q *logQuery) matches(l api.TaskLog) bool {
	if !q.filtered {
		return true
	}
	in := func(set map[string]bool, v string) bool { return set == nil || set[v] }
	switch {
	case q.ranks:
		return false
	case !q.after.IsZero() && !l.Timestamp.After(q.after), !q.before.IsZero() && !l.Timestamp.Before(q.before):
		return false
	case !in(q.levels, l.Level) || !in(q.sources, l.Source) || !in(q.stdtypes, l.StdType):
		return false
	case !in(q.agents, l.AgentID) || !in(q.allocations, l.AllocationID) || !in(q.containers, l.ContainerID):
		return false
	case q.re != nil:
		return q.re.MatchString(l.Log)
	case q.search != "":
		return strings.Contains(l.Log, q.search)
	}
	return true
}

// shapeLog is a line of task t's log as Determined's v1TaskLogsResponse.
// The job's lines come from its node (the agent) and its Slurm job (the
// container); the bridge's own come from neither.
func shapeLog(t *store.Task, l logLine) api.TaskLog {
	out := api.TaskLog{
		ID: l.id, TaskID: t.ID, AllocationID: api.AllocationID(t.ID), Timestamp: l.time.UTC(), Level: l.level,
		Source: l.source, Log: l.text + "\n",
	}
	origin := "[bridge]"
	if l.source == api.LogSourceJob {
		out.AgentID, out.ContainerID = t.Node, t.JobID
		origin = t.JobID
	}
	out.Message = flatMessage(out.Timestamp, origin, l.level, out.Log)
	return out
}

// flatMessage is a log line as Determined's CLI prints it: time, origin
// (8 columns), level, then the line with its "\n".
func flatMessage(ts time.Time, origin, level, log string) string {
	if len(origin) > 8 {
		origin = origin[:8]
	}
	return fmt.Sprintf("[%s] %-8s || %s: %s", ts.Format("2006-01-02T15:04:05.000000Z07:00"), origin, strings.TrimPrefix(level, "LOG_LEVEL_"), log)
}

// eventLine is one of the bridge's events of a task as a log line. Its
// level is WARNING for the bridge's warnings and ERROR for the ends that
// are failures (see reconcile's finish and abort.go).
func eventLine(e store.Event) logLine {
	return logLine{time: e.Time.UTC(), source: api.LogSourceBridge, text: e.Message, id: "bridge-" + strconv.FormatInt(e.ID, 10), level: eventLevel(e.Message)}
}

// failurePrefixes start the reasons of the ends that are failures.
var failurePrefixes = []string{
	"failed to start", "node failure", "out of memory", "startup hook exited", "the bridge could not record",
	reasonHalfDone,
}

// eventLevel is the log level of a bridge event.
func eventLevel(msg string) string {
	if strings.HasPrefix(msg, "warning:") {
		return api.LogLevelWarning
	}
	if reason, ok := strings.CutPrefix(msg, "terminated: "); ok {
		for _, p := range failurePrefixes {
			if strings.HasPrefix(reason, p) {
				return api.LogLevelError
			}
		}
		if code, ok := strings.CutPrefix(reason, "exited with code "); ok && code != "0" {
			return api.LogLevelError
		}
	}
	if rest, ok := strings.CutPrefix(msg, "notebook server ended with code "); ok && !strings.HasPrefix(rest, "0:") {
		return api.LogLevelError
	}
	return api.LogLevelInfo
}
