package slurm

import (
	"fmt"
	"strings"
)

// pendingReasons puts Slurm's pending reasons in words a user understands;
// "%s" stands for the job's QOS.
var pendingReasons = map[string]string{
	"Resources":                   "waiting for GPUs, CPUs or memory to free up",
	"Priority":                    "jobs with a higher priority are ahead in the queue",
	"Dependency":                  "waiting for another job to finish",
	"BeginTime":                   "waiting for its start time",
	"ReqNodeNotAvail":             "the nodes it needs are not available (down, drained or reserved)",
	"PartitionDown":               "the partition is down",
	"PartitionInactive":           "the partition is inactive",
	"PartitionNodeLimit":          "it asks for more nodes than the partition allows",
	"PartitionTimeLimit":          "its time limit is longer than the partition allows",
	"JobHeldUser":                 "held by its owner",
	"JobHeldAdmin":                "held by an administrator",
	"QOSMaxGRESPerUser":           "your GPU limit under QOS %s is reached",
	"QOSMaxJobsPerUserLimit":      "your limit of running jobs under QOS %s is reached",
	"QOSMaxCpuPerUserLimit":       "your CPU limit under QOS %s is reached",
	"QOSGrpGRES":                  "the GPUs of QOS %s are all in use",
	"AssocGrpGRES":                "your account's GPU limit is reached",
	"AssocMaxJobsLimit":           "your account's limit of running jobs is reached",
	"Reservation":                 "waiting for its reservation to start",
	"Licenses":                    "waiting for licenses",
	"NodeDown":                    "a node it needs is down",
	"launch failed requeued held": "its launch failed; an administrator must release it",
}

// ExplainPending returns "Reason: words" for a pending reason, or the
// reason alone when it has no words; qos fills in the QOS reasons.
func ExplainPending(reason, qos string) string {
	w, ok := pendingReasons[reason]
	if !ok {
		return reason
	}
	if strings.Contains(w, "%s") {
		w = fmt.Sprintf(w, qos)
	}
	return reason + ": " + w
}
