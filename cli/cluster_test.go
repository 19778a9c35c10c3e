package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/bridge/api"
)

// stubBridge answers the routes the cluster commands read; logQuery
// records the last logs request's query.
func stubBridge(t *testing.T, logQuery *string) *httptest.Server {
	t.Helper()
	logLine := func(n int) api.TaskLogsLine {
		log := "line-" + string(rune('0'+n)) + "\n"
		return api.TaskLogsLine{Result: api.TaskLog{ID: "job-" + string(rune('0'+n)), Log: log, Message: "[t] 101      || INFO: " + log}}
	}
	reg := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		enc := json.NewEncoder(w)
		switch r.URL.Path {
		case "/api/v1/auth/login":
			_ = enc.Encode(api.LoginResponse{Token: "t"})
		case "/api/v1/tasks/abcd/logs":
			*logQuery = r.URL.RawQuery
			order := []int{1, 2, 3}
			if r.URL.Query().Get("orderBy") == api.OrderByDesc {
				order = []int{3, 2}
			}
			for _, n := range order {
				_ = enc.Encode(logLine(n))
			}
		case "/api/v1/resource-pools":
			_ = enc.Encode(api.GetResourcePoolsResponse{ResourcePools: []api.ResourcePool{{Name: "gpu", Partition: "gpu", DefaultComputePool: true, NumAgents: 2, NodesUp: 2, GPUsTotal: 8}}})
		case "/api/v1/tasks":
			_ = enc.Encode(api.GetTasksResponse{AllocationIDToSummary: map[string]api.AllocationSummary{
				"mine.1": {TaskID: "mine", AllocationID: "mine.1", Name: "JupyterLab (calm-otter)", RegisteredTime: reg, SlotsNeeded: 1,
					Resources: []api.ResourcesSummary{{ContainerID: "101", AgentDevices: map[string]api.ResourcesDevices{"gpu01": {}}}}},
				"queued.1": {TaskID: "queued", AllocationID: "queued.1", Name: "JupyterLab (slow-snail)", RegisteredTime: reg.Add(time.Minute), Resources: []api.ResourcesSummary{}},
			}})
		case "/api/v1/agents":
			dev := api.Device{Brand: "a100", Type: api.DeviceTypeCUDA}
			_ = enc.Encode(api.GetAgentsResponse{Agents: []api.Agent{{ID: "gpu01", ResourcePools: []string{"gpu"}, Enabled: true, Slots: map[string]api.Slot{
				"0": {ID: "0", Device: dev, Enabled: true, Container: &api.Container{ID: "101", State: api.ContainerRunning}},
				"1": {ID: "1", Device: api.Device{ID: 1, Brand: "a100", Type: api.DeviceTypeCUDA}, Enabled: true, Container: &api.Container{PermissionDenied: true}},
				"2": {ID: "2", Device: api.Device{ID: 2, Brand: "a100", Type: api.DeviceTypeCUDA}, Enabled: true},
			}}}})
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	t.Setenv("DET_USER", "determined")
	return srv
}

func runClusterCLI(t *testing.T, srv *httptest.Server, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := Execute(context.Background(), append([]string{"-m", srv.URL}, args...), IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}); code != 0 {
		return out.String(), &cliError{errOut.String()}
	}
	return out.String(), nil
}

type cliError struct{ msg string }

func (e *cliError) Error() string { return e.msg }

// TestLogsCommand: logs print Determined's message as is; --tail asks for
// the newest lines first and prints them oldest first; --head and --tail
// exclude each other.
func TestLogsCommand(t *testing.T) {
	var q string
	srv := stubBridge(t, &q)
	out, err := runClusterCLI(t, srv, "notebook", "logs", "abcd")
	if err != nil || out != "[t] 101      || INFO: line-1\n[t] 101      || INFO: line-2\n[t] 101      || INFO: line-3\n" {
		t.Errorf("logs: %q %v", out, err)
	}
	out, err = runClusterCLI(t, srv, "task", "logs", "abcd", "--tail", "2")
	if err != nil || !strings.Contains(q, "orderBy=ORDER_BY_DESC") || !strings.Contains(q, "limit=2") || strings.Index(out, "line-2") > strings.Index(out, "line-3") {
		t.Errorf("--tail 2 (query %s): %q %v", q, out, err)
	}
	if _, err := runClusterCLI(t, srv, "notebook", "logs", "abcd", "--tail", "1", "--head", "1"); err == nil {
		t.Error("--head with --tail was taken")
	}
	if out, _ := runClusterCLI(t, srv, "shell", "logs", "abcd", "--json"); !strings.Contains(out, `"id":"job-1"`) {
		t.Errorf("--json: %s", out)
	}
}

// TestClusterCommands: task, agent, slot and resource-pool lists.
func TestClusterCommands(t *testing.T) {
	var q string
	srv := stubBridge(t, &q)
	out, err := runClusterCLI(t, srv, "task", "list")
	if err != nil || !strings.Contains(out, "mine.1") || !strings.Contains(out, "gpu01") || !strings.Contains(out, "unassigned") || strings.Index(out, "mine") > strings.Index(out, "queued") {
		t.Errorf("task list: %s %v", out, err)
	}
	if out, err := runClusterCLI(t, srv, "agent", "list"); err != nil || !strings.Contains(out, "gpu01") {
		t.Errorf("agent list: %s %v", out, err)
	}
	out, err = runClusterCLI(t, srv, "slot", "list", "--json")
	var rows []slotRow
	if err != nil || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 3 {
		t.Fatalf("slot list: %s %v", out, err)
	}
	for i, want := range []string{"mine.1", "OCCUPIED", "FREE"} {
		if rows[i].AllocationID != want || rows[i].Type != "cuda" || rows[i].Device != "a100" {
			t.Errorf("slot %d: %+v, want %s", i, rows[i], want)
		}
	}
	if out, err := runClusterCLI(t, srv, "resource-pool", "list"); err != nil || !strings.Contains(out, "compute") || !strings.Contains(out, "2/2") {
		t.Errorf("resource-pool list: %s %v", out, err)
	}
}
