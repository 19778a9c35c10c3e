package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/slurm"
)

// TestSbatchRefusalText: what the user reads when sbatch does not queue
// the job, through the real Slurm client over a stubbed sbatch: our word
// once, Slurm's line once (warnings left out), and what to do.
func TestSbatchRefusalText(t *testing.T) {
	cases := []struct {
		name   string
		stderr string
		code   int
		want   string
	}{
		{"account", "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified\n",
			http.StatusBadRequest,
			"Slurm refused the job: sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified. " +
				"To fix: POSIX user jobuser has no Slurm account that may use partition gpu: ask your site's admin to add you to one, " +
				"or name one of your accounts with slurm.sbatch_args --account=NAME (`sacctmgr show assoc user=jobuser` lists them)."},
		{"warning then error", "sbatch: warning: can't honor --ntasks-per-node set to 4 which doesn't match the requested tasks 1 with the number of requested nodes 1. Ignoring --ntasks-per-node.\n" +
			"sbatch: error: Batch job submission failed: Requested node configuration is not available\n",
			http.StatusBadRequest,
			"Slurm refused the job: sbatch: error: Batch job submission failed: Requested node configuration is not available. " +
				"To fix: no node of partition gpu has what the notebook asks for (GPUs, CPUs, memory or features): ask for less, " +
				"or use another pool (resources.resource_pool; `det resource-pool list` shows them)."},
		{"qos limit", "sbatch: error: QOSMaxGRESPerUser\nsbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)\n",
			http.StatusBadRequest,
			"Slurm refused the job: sbatch: error: QOSMaxGRESPerUser; sbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user's size and/or time limits). " +
				"To fix: your account's or QOS's limits do not allow this notebook now (jobs, GPUs or time): kill a notebook you no longer use, or ask for less."},
		{"unknown reason", "sbatch: error: Batch job submission failed: Something new\n",
			http.StatusBadRequest,
			"Slurm refused the job: sbatch: error: Batch job submission failed: Something new. " +
				"To fix: change what the notebook asks for (resources, slurm.sbatch_args; `det notebook start --preview` shows the merged config), or ask your site's admin."},
		{"runuser", "runuser: user jobuser does not exist or the user entry does not contain all the required fields\n",
			http.StatusBadRequest,
			"Slurm refused the job: sbatch: runuser: user jobuser does not exist or the user entry does not contain all the required fields. " +
				"To fix: change what the notebook asks for (resources, slurm.sbatch_args; `det notebook start --preview` shows the merged config), or ask your site's admin."},
		{"controller", "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n",
			http.StatusServiceUnavailable,
			"the Slurm controller did not answer, so the notebook was not started; try again in a minute " +
				"(sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure))"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			stub := &slurm.StubRunner{Stubs: []slurm.Stub{{Name: "sbatch", Prefix: []string{"--parsable"},
				Err: &slurm.CommandError{Cmd: "sbatch", Stderr: c.stderr, Err: errors.New("exit status 1")}}}}
			cli := &slurm.CLI{Runner: stub}
			h.slurm.submit = func(r slurm.SubmitRequest) (string, error) { return cli.Submit(context.Background(), r) }
			w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{Config: map[string]any{}}, nil)
			var e api.Error
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			if w.Code != c.code || e.Message != c.want {
				t.Fatalf("%d\n%s\nwant %d\n%s", w.Code, e.Message, c.code, c.want)
			}
			for _, line := range strings.Split(strings.TrimSpace(c.stderr), "\n") {
				if n := strings.Count(e.Message, line); strings.Contains(line, "error:") && n != 1 {
					t.Errorf("Slurm's line %q shown %d times", line, n)
				}
			}
			if strings.Contains(e.Message, "sbatch: sbatch") || strings.Contains(e.Message, "warning") {
				t.Errorf("%s", e.Message)
			}
			if u := stub.Unused(); len(u) != 0 {
				t.Errorf("stubs not used: %v", u)
			}
		})
	}
}

// TestSubmitFailureWraps: the user's error keeps Slurm's typed error, so
// callers compare with errors.As and errors.Is, not with text.
func TestSubmitFailureWraps(t *testing.T) {
	h := newHarness(t)
	ce := &slurm.CommandError{Cmd: "sbatch", Stderr: "sbatch: error: Batch job submission failed: Invalid qos specification", Err: errors.New("exit status 1")}
	stub := &slurm.StubRunner{Stubs: []slurm.Stub{{Name: "sbatch", Err: ce}}}
	cli := &slurm.CLI{Runner: stub}
	h.slurm.submit = func(r slurm.SubmitRequest) (string, error) { return cli.Submit(context.Background(), r) }
	u, err := h.srv.store.UserByName(context.Background(), "determined")
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.srv.submit(context.Background(), u, typeNotebook, map[string]any{}, nil, "")
	var ue *userError
	var got *slurm.CommandError
	if !errors.As(err, &ue) || !errors.As(err, &got) || got != ce || ue.code != http.StatusBadRequest {
		t.Fatalf("%#v", err)
	}
	if !strings.Contains(err.Error(), "Invalid qos specification. To fix: name a QOS") {
		t.Errorf("%v", err)
	}
}
