package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// clusterFake is a bridge with a GPU pool, a node gpu01 with three
// slots (one held by the user's task, one by a task the user may not
// see, one free) and two live tasks, one of them queued.
func clusterFake() *fakeClient {
	reg := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	dev := func(id int) api.Device { return api.Device{ID: id, Brand: "a100", Type: api.DeviceTypeCUDA} }
	return &fakeClient{
		pools: []api.ResourcePool{{Name: "gpu", Partition: "gpu", DefaultComputePool: true, NumAgents: 2, NodesUp: 2, GPUsTotal: 8}},
		tasks: map[string]api.AllocationSummary{
			"queued.1": {TaskID: "queued", AllocationID: "queued.1", Name: "JupyterLab (slow-snail)", RegisteredTime: reg.Add(time.Minute), Resources: []api.ResourcesSummary{}},
			"mine.1": {TaskID: "mine", AllocationID: "mine.1", Name: "JupyterLab (calm-otter)", RegisteredTime: reg, SlotsNeeded: 1,
				Resources: []api.ResourcesSummary{{ContainerID: "101", AgentDevices: map[string]api.ResourcesDevices{"gpu01": {}}}}},
		},
		agents: []api.Agent{{ID: "gpu01", ResourcePools: []string{"gpu"}, Enabled: true, SlurmState: "mixed", Slots: map[string]api.Slot{
			"0": {ID: "0", Device: dev(0), Enabled: true, Container: &api.Container{ID: "101", State: api.ContainerRunning}},
			"1": {ID: "1", Device: dev(1), Enabled: true, Container: &api.Container{PermissionDenied: true}},
			"2": {ID: "2", Device: dev(2), Enabled: true},
		}}},
	}
}

// rows are out's lines with their columns' spaces squeezed.
func rows(out string) []string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return lines
}

// TestListPools: the defaults are marked; --json prints the pools.
func TestListPools(t *testing.T) {
	f := clusterFake()
	con, out, _ := testConsole("")
	if err := runListPools(context.Background(), listPoolsOptions{}, f, con); err != nil {
		t.Fatal(err)
	}
	if r := rows(out.String()); len(r) != 2 || !strings.HasPrefix(r[0], "Name Partition Default Nodes Up") || r[1] != "gpu gpu compute 2/2 0/8 0/0 0 0" {
		t.Errorf("table:\n%s", out.String())
	}
	con, out, _ = testConsole("")
	var pools []api.ResourcePool
	if err := runListPools(context.Background(), listPoolsOptions{json: true}, f, con); err != nil || json.Unmarshal(out.Bytes(), &pools) != nil || pools[0].Name != "gpu" {
		t.Errorf("--json: %v\n%s", err, out.String())
	}
}

// TestListTasks: the live tasks, oldest first, with their node or
// "unassigned".
func TestListTasks(t *testing.T) {
	con, out, _ := testConsole("")
	if err := runListTasks(context.Background(), listTasksOptions{}, clusterFake(), con); err != nil {
		t.Fatal(err)
	}
	r := rows(out.String())
	if len(r) != 3 || !strings.HasPrefix(r[0], "Task ID Allocation ID Name") || !strings.HasPrefix(r[1], "mine mine.1 JupyterLab (calm-otter) 1") ||
		!strings.HasSuffix(r[1], " gpu01") || !strings.Contains(r[2], " unassigned") {
		t.Errorf("table:\n%s", out.String())
	}
	con, out, _ = testConsole("")
	var tasks map[string]api.AllocationSummary
	if err := runListTasks(context.Background(), listTasksOptions{json: true}, clusterFake(), con); err != nil || json.Unmarshal(out.Bytes(), &tasks) != nil || len(tasks) != 2 {
		t.Errorf("--json: %v\n%s", err, out.String())
	}
}

// TestListAgents: one line per agent.
func TestListAgents(t *testing.T) {
	con, out, _ := testConsole("")
	if err := runListAgents(context.Background(), listAgentsOptions{}, clusterFake(), con); err != nil {
		t.Fatal(err)
	}
	if r := rows(out.String()); len(r) != 2 || r[1] != "gpu01 3 0 gpu true false mixed" {
		t.Errorf("table:\n%s", out.String())
	}
}

// TestListSlots: each slot names the user's task holding it, FREE, or
// OCCUPIED by a task the user may not see.
func TestListSlots(t *testing.T) {
	con, out, _ := testConsole("")
	if err := runListSlots(context.Background(), listSlotsOptions{json: true}, clusterFake(), con); err != nil {
		t.Fatal(err)
	}
	var got []slotRow
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 3 {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for i, want := range []string{"mine.1", "OCCUPIED", "FREE"} {
		if got[i].AllocationID != want || got[i].Type != "cuda" || got[i].Device != "a100" {
			t.Errorf("slot %d: %+v, want %s", i, got[i], want)
		}
	}
	con, out, _ = testConsole("")
	if err := runListSlots(context.Background(), listSlotsOptions{}, clusterFake(), con); err != nil || rows(out.String())[1] != "gpu01 gpu 0 true false mine.1 JupyterLab (calm-otter) cuda a100" {
		t.Errorf("table: %v\n%s", err, out.String())
	}
}

// TestAudit: the query goes as given; the entries print as a table or
// JSON; the bridge's refusal is passed on.
func TestAudit(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	f := &fakeClient{audit: []api.AuditEntry{
		{Time: at, Actor: "alice", Action: api.AuditLoginFailed, Source: "10.0.0.5", Detail: "password: invalid credentials"},
		{Time: at.Add(2 * time.Minute), Action: api.AuditTaskCancel, Target: "5b2a9ea4", Detail: "notebook, pool gpu: idle for more than 30m"},
	}}
	con, out, _ := testConsole("")
	q := client.AuditQuery{Since: "1h", Actor: "alice", Action: "login*"}
	if err := runAudit(context.Background(), auditOptions{query: q}, f, con); err != nil || !f.called("Audit {Since:1h Until: Actor:alice Action:login*}") {
		t.Fatalf("%v %v", err, f.calls)
	}
	if r := rows(out.String()); len(r) != 3 || r[0] != "Time Actor Action Target Source Detail" ||
		r[1] != "2030-01-02T03:04:05Z alice login.failed - 10.0.0.5 password: invalid credentials" ||
		r[2] != "2030-01-02T03:06:05Z - task.cancel 5b2a9ea4 - notebook, pool gpu: idle for more than 30m" {
		t.Errorf("table:\n%s", out.String())
	}
	con, out, _ = testConsole("")
	var entries []api.AuditEntry
	if err := runAudit(context.Background(), auditOptions{json: true}, f, con); err != nil || json.Unmarshal(out.Bytes(), &entries) != nil || len(entries) != 2 {
		t.Errorf("--json: %v\n%s", err, out.String())
	}
	f.errs = map[string]error{"Audit": &client.APIError{Status: 403, Message: "only an admin may do this"}}
	if err := runAudit(context.Background(), auditOptions{}, f, con); err == nil || err.Error() != "only an admin may do this" {
		t.Errorf("a user: %v", err)
	}
}

// TestAuditCommand: det audit's flags fill the query, --since 24h by
// default.
func TestAuditCommand(t *testing.T) {
	detEnv(t, "admin")
	f := &fakeClient{}
	if _, errOut, code := runFake(t, f, "", "audit", "--actor", "bob", "--until", "1h", "--action", "user.update"); code != 0 ||
		!f.called("Audit {Since:24h Until:1h Actor:bob Action:user.update}") {
		t.Errorf("exit %d, calls %v: %s", code, f.calls, errOut)
	}
}
