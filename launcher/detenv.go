package launcher

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/jobspec"
)

// determinedEnv is the environment Determined gives a task's container,
// so that Determined's own CLI and SDK work inside the notebook without a
// login: the bridge's address, the owner and a token of the owner that
// lives as long as the task (DET_USER_TOKEN for the CLI, DET_SESSION_TOKEN
// for the SDK), the task's ids, its pool, its node and the GPUs Slurm gave
// the job. getenv reads the job's environment.
func determinedEnv(spec *jobspec.Spec, getenv func(string) string) []string {
	taskType := "NOTEBOOK"
	if spec.Kind == jobspec.KindShell {
		taskType = "SHELL"
	}
	env := []string{
		"DET_TASK_ID=" + spec.TaskID,
		"DET_ALLOCATION_ID=" + api.AllocationID(spec.TaskID),
		"DET_TASK_TYPE=" + taskType,
		"DET_SLOT_IDS=" + slotIDs(getenv("SLURM_JOB_GPUS")),
	}
	if node := getenv("SLURMD_NODENAME"); node != "" {
		env = append(env, "DET_AGENT_ID="+node)
	}
	if spec.ResourcePool != "" {
		env = append(env, "DET_RESOURCE_POOL="+spec.ResourcePool)
	}
	if spec.UserToken != "" {
		env = append(env, "DET_MASTER="+spec.Master, "DET_USER_TOKEN="+spec.UserToken, "DET_SESSION_TOKEN="+spec.UserToken)
		if spec.User != "" {
			env = append(env, "DET_USER="+spec.User)
		}
	}
	return env
}

// slotIDs turns Slurm's list of the job's GPU indexes ("0,2") into
// Determined's DET_SLOT_IDS, a JSON list ([0,2]); "[]" without GPUs.
func slotIDs(gpus string) string {
	ids := []int{}
	for _, f := range strings.Split(gpus, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n >= 0 {
			ids = append(ids, n)
		}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}
