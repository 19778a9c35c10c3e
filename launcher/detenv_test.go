package launcher

import (
	"slices"
	"testing"

	"github.com/det-slurm/bridge/jobspec"
)

func TestDeterminedEnv(t *testing.T) {
	job := map[string]string{"SLURM_JOB_GPUS": "1,3", "SLURMD_NODENAME": "r1-gpu01-ib"}
	spec := &jobspec.Spec{TaskID: "t1", Kind: jobspec.KindNotebook, UserToken: "tok", Master: "http://login:8080", User: "alice", ResourcePool: "gpu"}
	env := determinedEnv(spec, func(k string) string { return job[k] })
	for _, want := range []string{
		"DET_TASK_ID=t1", "DET_ALLOCATION_ID=t1.1", "DET_TASK_TYPE=NOTEBOOK", "DET_SLOT_IDS=[1,3]",
		"DET_AGENT_ID=r1-gpu01-ib", "DET_RESOURCE_POOL=gpu", "DET_MASTER=http://login:8080",
		"DET_USER=alice", "DET_USER_TOKEN=tok", "DET_SESSION_TOKEN=tok",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("missing %s in %q", want, env)
		}
	}
	// Without a token (a bridge with no CLI for jobs), no master or user.
	env = determinedEnv(&jobspec.Spec{TaskID: "t2", Kind: jobspec.KindShell}, func(string) string { return "" })
	for _, e := range env {
		if e == "DET_SLOT_IDS=[]" || e == "DET_TASK_TYPE=SHELL" || e == "DET_TASK_ID=t2" || e == "DET_ALLOCATION_ID=t2.1" {
			continue
		}
		t.Errorf("unexpected %s without a token", e)
	}
}

func TestSlotIDs(t *testing.T) {
	for in, want := range map[string]string{"": "[]", "0": "[0]", "0,1,2,3": "[0,1,2,3]", " 2 , x": "[2]"} {
		if got := slotIDs(in); got != want {
			t.Errorf("slotIDs(%q) = %s, want %s", in, got, want)
		}
	}
}
