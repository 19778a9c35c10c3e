package slurm

import "strings"

// jobNamePrefix starts the name of every job the bridge submits.
const jobNamePrefix = "det-"

// JobName is the name the bridge gives the job of a task:
// "det-<kind>-<task id>" ("det-notebook-5b2a9ea4-...").
func JobName(kind, taskID string) string {
	return jobNamePrefix + kind + "-" + taskID
}

// TaskIDOf returns the task id a bridge job name carries
// ("det-notebook-<uuid>"), or "".
func TaskIDOf(jobName string) string {
	rest, ok := strings.CutPrefix(jobName, jobNamePrefix)
	if !ok {
		return ""
	}
	_, id, ok := strings.Cut(rest, "-")
	if !ok || len(id) != 36 {
		return ""
	}
	return id
}
