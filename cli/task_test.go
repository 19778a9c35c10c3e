package cli

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// TestList: the table shows states without Determined's STATE_ prefix
// and with Slurm's reason, after a warning when the bridge cannot reach
// Slurm; --json prints Determined's objects.
func TestList(t *testing.T) {
	since := time.Date(2030, 1, 1, 10, 42, 3, 0, time.Local)
	f := &fakeClient{
		list:   []api.Notebook{{ID: "abcd-1", State: api.StateQueued, Reason: "Priority", ResourcePool: "gpu", Slots: 1, Description: "JupyterLab (calm-otter)", Username: "determined"}},
		master: api.Master{Slurm: &api.SlurmStatus{Stale: true, Since: &since, Error: "squeue: timed out"}},
	}
	con, out, errOut := testConsole("")
	if err := runList(context.Background(), listOptions{kind: client.ShellKind}, f, con); err != nil || !f.called("List shell") {
		t.Fatalf("%v %v", err, f.calls)
	}
	if r := rows(out.String()); len(r) != 2 || r[0] != "Id Owner Description Registered Time State Resource Pool Slots Node Remaining" ||
		!strings.HasPrefix(r[1], "abcd-1 determined JupyterLab (calm-otter) ") || !strings.HasSuffix(r[1], " QUEUED (Priority) gpu 1") {
		t.Errorf("table:\n%s", out.String())
	}
	if errOut.String() != "Warning: the bridge cannot reach Slurm since 10:42:03 (squeue: timed out); states below may be out of date.\n" {
		t.Errorf("warning %q", errOut.String())
	}
	f.calls = nil
	con, out, errOut = testConsole("")
	if err := runList(context.Background(), listOptions{kind: client.NotebookKind, json: true}, f, con); err != nil ||
		!strings.Contains(out.String(), `"state": "STATE_QUEUED"`) || errOut.Len() != 0 || f.called("MasterInfo") {
		t.Errorf("--json: %v %v\n%s%s", err, f.calls, out.String(), errOut.String())
	}
	f.master = api.Master{Slurm: &api.SlurmStatus{}}
	con, _, errOut = testConsole("")
	if err := runList(context.Background(), listOptions{kind: client.NotebookKind}, f, con); err != nil || errOut.Len() != 0 {
		t.Errorf("a fresh view warned: %v %q", err, errOut.String())
	}
}

// TestKill: each id in turn; the first error stops, unless --force, which
// says each error, goes on and fails at the end.
func TestKill(t *testing.T) {
	f := &fakeClient{}
	con, out, _ := testConsole("")
	if err := runKill(context.Background(), killOptions{kind: client.ShellKind, ids: []string{"ab12", "cd34"}}, f, con); err != nil ||
		out.String() != "Killed shell ab12-full (JupyterLab (ab12))\nKilled shell cd34-full (JupyterLab (cd34))\n" {
		t.Errorf("%v %q", err, out.String())
	}
	f = &fakeClient{errs: map[string]error{"Kill": &client.APIError{Status: 404, Message: "no notebook ab12"}}}
	con, _, errOut := testConsole("")
	if err := runKill(context.Background(), killOptions{kind: client.NotebookKind, ids: []string{"ab12", "cd34"}}, f, con); err == nil || err.Error() != "kill ab12: no notebook ab12" || f.called("Kill notebook cd34") || errOut.Len() != 0 {
		t.Errorf("an error: %v %v", err, f.calls)
	}
	con, _, errOut = testConsole("")
	if err := runKill(context.Background(), killOptions{kind: client.NotebookKind, ids: []string{"ab12", "cd34"}, force: true}, f, con); err == nil || err.Error() != "kill ab12: no notebook ab12" ||
		!f.called("Kill notebook cd34") || errOut.String() != "kill ab12: no notebook ab12\nkill cd34: no notebook ab12\n" {
		t.Errorf("--force: %v %v %q", err, f.calls, errOut.String())
	}
}

// TestLogs prints Determined's message as it is, or each line as JSON.
func TestLogs(t *testing.T) {
	f := &fakeClient{logs: []api.TaskLog{{ID: "job-1", Message: "[t] 101      || INFO: line-1\n"}, {ID: "job-2", Message: "[t] 101      || INFO: line-2\n"}}}
	con, out, _ := testConsole("")
	if err := runLogs(context.Background(), logsOptions{id: "abcd"}, f, con); err != nil || out.String() != "[t] 101      || INFO: line-1\n[t] 101      || INFO: line-2\n" {
		t.Errorf("%v %q", err, out.String())
	}
	con, out, _ = testConsole("")
	var l api.TaskLog
	if err := runLogs(context.Background(), logsOptions{id: "abcd", json: true}, f, con); err != nil || json.Unmarshal([]byte(strings.Split(out.String(), "\n")[1]), &l) != nil || l.ID != "job-2" {
		t.Errorf("--json: %v %q", err, out.String())
	}
}

// TestLogsCommand: -f, --head and --tail go to the client; --head and
// --tail exclude each other.
func TestLogsCommand(t *testing.T) {
	detEnv(t, "alice")
	f := &fakeClient{}
	if _, errOut, code := runFake(t, f, "", "task", "logs", "abcd", "--tail", "2", "-f"); code != 0 || !f.called("Logs abcd {Follow:true Head:0 Tail:2}") {
		t.Errorf("exit %d, calls %v: %s", code, f.calls, errOut)
	}
	f.calls = nil
	if _, _, code := runFake(t, f, "", "notebook", "logs", "abcd", "--tail", "1", "--head", "1"); code != 1 || f.called("Logs abcd {Follow:false Head:1 Tail:1}") {
		t.Errorf("--head with --tail: exit %d, calls %v", code, f.calls)
	}
}

// TestConfig prints the merged config as YAML with Determined's names;
// the bridge's answer for an unknown id is passed on.
func TestConfig(t *testing.T) {
	f := &fakeClient{launched: client.Launched{Config: []byte(`{"resources":{"slots":0,"resource_pool":"cpu"},"idle_timeout":"30m"}`)}}
	con, out, _ := testConsole("")
	if err := runConfig(context.Background(), configOptions{kind: client.ShellKind, id: "ab12"}, f, con); err != nil || !f.called("Get shell ab12") ||
		!strings.Contains(out.String(), "resource_pool: cpu") || !strings.Contains(out.String(), "idle_timeout: 30m") {
		t.Errorf("%v %v\n%s", err, f.calls, out.String())
	}
	missing := &client.APIError{Status: 404, Message: "no shell ab12"}
	f.errs = map[string]error{"Get": missing}
	if err := runConfig(context.Background(), configOptions{kind: client.ShellKind, id: "ab12"}, f, con); !errors.Is(err, missing) {
		t.Errorf("unknown: %v", err)
	}
}

// TestStateTextUnreachable: a running task the proxy cannot reach says so
// in the state column, with the time and the reason.
func TestStateTextUnreachable(t *testing.T) {
	since := time.Date(2026, 11, 29, 10, 42, 3, 0, time.Local)
	got := stateText(api.Notebook{State: api.StateRunning, Unreachable: &api.Unreachable{Since: since, Reason: "tunnel lost: the job closed the connection"}})
	if got != "RUNNING (unreachable since 10:42:03: tunnel lost: the job closed the connection)" {
		t.Errorf("state %q", got)
	}
	if got := stateText(api.Notebook{State: api.StateQueued, Reason: "Priority"}); got != "QUEUED (Priority)" {
		t.Errorf("state %q", got)
	}
}

// TestListClusters: on a site of several Slurm clusters the table has a
// Cluster column; a stale cluster is named in the warning.
func TestListClusters(t *testing.T) {
	f := &fakeClient{
		list: []api.Notebook{{ID: "abcd-1", State: api.StateRunning, ResourcePool: "gpu2", Slots: 1, Description: "x", Username: "determined", Cluster: "devcluster2"}},
		master: api.Master{Slurm: &api.SlurmStatus{Stale: true, Error: "devcluster2: squeue: timed out"},
			SlurmClusters: []api.ClusterStatus{{Name: "local"}, {Name: "devcluster2", SlurmStatus: api.SlurmStatus{Stale: true}}}},
	}
	con, out, errOut := testConsole("")
	if err := runList(context.Background(), listOptions{kind: client.NotebookKind}, f, con); err != nil {
		t.Fatal(err)
	}
	if r := rows(out.String()); len(r) != 2 || r[0] != "Id Owner Description Registered Time State Cluster Resource Pool Slots Node Remaining" ||
		!strings.HasSuffix(r[1], " RUNNING devcluster2 gpu2 1") {
		t.Errorf("table:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "(devcluster2: squeue: timed out)") {
		t.Errorf("warning %q", errOut.String())
	}
}
