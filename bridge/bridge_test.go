package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

// fakeSlurm is a Slurm whose answers the test sets.
type fakeSlurm struct {
	submit   func(slurm.SubmitRequest) (string, error)
	jobs     map[string]slurm.Job
	queryErr error
	cancels  []string
	queries  int
	// duringQuery, when set, runs once inside the next Query, as if it
	// happened while squeue was running.
	duringQuery func()
	// limits are the jobs' time limits (TimeLimit, SetTimeLimit);
	// setErr fails SetTimeLimit.
	limits map[string]slurm.Limit
	setErr error
	sets   []time.Duration
	// nodes, when set, are the nodes Nodes lists instead of the default.
	nodes []slurm.Node
}

func (f *fakeSlurm) Submit(_ context.Context, r slurm.SubmitRequest) (string, error) {
	return f.submit(r)
}
func (f *fakeSlurm) Query(_ context.Context, ids []string) (map[string]slurm.Job, error) {
	f.queries++
	if during := f.duringQuery; during != nil {
		f.duringQuery = nil
		during()
	}
	if f.queryErr != nil {
		return nil, f.queryErr
	}
	out := map[string]slurm.Job{}
	for _, id := range ids {
		if j, ok := f.jobs[id]; ok {
			out[id] = j
		}
	}
	return out, nil
}

// Cancel records the cancel, and the job leaves the fake's queue.
func (f *fakeSlurm) Cancel(_ context.Context, id string) error {
	f.cancels = append(f.cancels, id)
	delete(f.jobs, id)
	return nil
}
func (f *fakeSlurm) Finished(context.Context, string) (string, int, error) {
	return "", 0, slurm.ErrNoAccounting
}
func (f *fakeSlurm) Active(context.Context) ([]slurm.Job, error) {
	var out []slurm.Job
	for _, j := range f.jobs {
		out = append(out, j)
	}
	return out, nil
}
func (f *fakeSlurm) TimeLimit(_ context.Context, id string) (slurm.Limit, error) {
	l, ok := f.limits[id]
	if !ok {
		return slurm.Limit{}, slurm.ErrJobGone
	}
	return l, nil
}

// SetTimeLimit records the new limit, and the job's time left follows it.
func (f *fakeSlurm) SetTimeLimit(_ context.Context, id string, limit time.Duration) error {
	if f.setErr != nil {
		return f.setErr
	}
	f.sets = append(f.sets, limit)
	l := f.limits[id]
	l.Limit = time.Duration(slurm.Minutes(limit)) * time.Minute
	f.limits[id] = l
	if j, ok := f.jobs[id]; ok {
		j.TimeLeft = l.Limit - l.Used
		f.jobs[id] = j
	}
	return nil
}
func (f *fakeSlurm) Nodes(context.Context) ([]slurm.Node, error) {
	if f.nodes != nil {
		return f.nodes, nil
	}
	return []slurm.Node{
		{Name: "r1-gpu01-ib", Partitions: []string{"gpu"}, Addr: "10.0.0.1", GPUs: 4, GPUType: "a100"},
		{Name: "cpu1", Partitions: []string{"cpu"}, Addr: "10.0.0.3"},
	}, nil
}

type harness struct {
	t     testing.TB
	srv   *Server
	slurm *fakeSlurm
	h     http.Handler
	token string
	root  string
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessWith(t, "")
}

// newHarnessWith is newHarness with extra top-level site config lines.
// The harness's tasks are in direct proxy mode unless extra sets
// proxy_mode.
func newHarnessWith(t testing.TB, extra string) *harness {
	t.Helper()
	return newHarnessSetup(t, extra, "", nil)
}

// newHarnessSetup is newHarnessWith with more pools (YAML list entries)
// and a setup that runs on the server before it starts.
func newHarnessSetup(t testing.TB, extra, pools string, setup func(*Server)) *harness {
	t.Helper()
	dir := t.TempDir()
	if !strings.Contains(extra, "proxy_mode:") {
		extra += "\nproxy_mode: direct\n"
	}
	yaml := extra + `
db_path: db
job_storage_root: ` + dir + `/jobs
launcher_path: /opt/det/det-launcher
insecure_empty_default_passwords: true
container_runtime: {type: none}
reconcile_interval: 1s
default_images: {cpu: /images/site.sif}
task_container_defaults:
  environment:
    environment_variables: ["SITE=1"]
default_aux_pool: cpu
resource_pools:
  - name: gpu
    partition: gpu
    gpu: {gres: gpu, type: a100}
    task_defaults:
      notebook_idle_type: activity
  - name: cpu
    partition: cpu
` + pools
	cfg, err := siteconfig.Parse([]byte(yaml), dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.SetPasswordCost(bcrypt.MinCost) // what the tests check does not depend on the cost
	fs := &fakeSlurm{jobs: map[string]slurm.Job{}, limits: map[string]slurm.Limit{}, submit: func(slurm.SubmitRequest) (string, error) { return "101", nil }}
	s := New(cfg, st, fs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.lookupPosix = testAccounts
	if setup != nil {
		setup(s)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPosixUser(context.Background(), "determined", "jobuser"); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: s, slurm: fs, h: s.Handler(), root: dir + "/jobs"}
	var lr api.LoginResponse
	h.do("POST", "/api/v1/auth/login", api.LoginRequest{Username: "determined"}, &lr, 200)
	h.token = lr.Token
	return h
}

func (h *harness) req(method, path string, body any, hdr map[string]string) *httptest.ResponseRecorder {
	var b bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&b).Encode(body)
	}
	r := httptest.NewRequest(method, path, &b)
	if h.token != "" {
		r.Header.Set("Authorization", "Bearer "+h.token)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, r)
	return w
}

func (h *harness) do(method, path string, body, out any, want int) {
	h.t.Helper()
	w := h.req(method, path, body, nil)
	if w.Code != want {
		h.t.Fatalf("%s %s: %d %s, want %d", method, path, w.Code, w.Body.String(), want)
	}
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *harness) start(cfg map[string]any) api.Notebook {
	var resp api.LaunchNotebookResponse
	h.do("POST", "/api/v1/notebooks", api.LaunchRequest{Config: cfg}, &resp, http.StatusOK)
	return resp.Notebook
}

// get reads a notebook by its id or a prefix.
func (h *harness) get(id string) api.Notebook {
	h.t.Helper()
	var resp api.GetNotebookResponse
	h.do("GET", "/api/v1/notebooks/"+id, nil, &resp, http.StatusOK)
	return resp.Notebook
}

func TestSubmitWritesJobFolder(t *testing.T) {
	h := newHarness(t)
	var got slurm.SubmitRequest
	h.slurm.submit = func(r slurm.SubmitRequest) (string, error) { got = r; return "7", nil }
	nb := h.start(map[string]any{"resources": map[string]any{"slots": 2}, "slurm": map[string]any{"sbatch_args": []any{"--time=10"}}})
	if nb.SlurmJobID != "7" || nb.JobID != nb.ID || nb.ResourcePool != "gpu" || nb.State != api.StateQueued {
		t.Fatalf("notebook %+v", nb)
	}
	args := strings.Join(got.Args, " ")
	for _, w := range []string{"--job-name=det-notebook-" + nb.ID, "--partition=gpu", "--gres=gpu:a100:2", "--time=10"} {
		if !strings.Contains(args, w) {
			t.Errorf("sbatch args %q lack %q", args, w)
		}
	}
	dir := filepath.Join(h.root, "jobuser", nb.ID)
	st, err := os.Stat(filepath.Join(dir, "task.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("task.json: %v %v", st, err)
	}
	if d, _ := os.Stat(dir); d.Mode().Perm() != 0o700 {
		t.Errorf("job folder mode %v", d.Mode())
	}
	if script, _ := os.ReadFile(got.Script); got.Script != filepath.Join(dir, "job.sh") || got.Text == "" || string(script) != got.Text {
		t.Errorf("submit request carries script %q and text %q; want the written script's path and its text", got.Script, got.Text)
	}
	var spec jobspec.Spec
	data, _ := os.ReadFile(filepath.Join(dir, "task.json"))
	_ = json.Unmarshal(data, &spec)
	if spec.BaseURL != "/proxy/"+nb.ID+"/" || spec.JupyterToken == "" || spec.Secret == "" || spec.Slots != 2 {
		t.Errorf("spec %+v", spec)
	}
	w := h.req("GET", "/api/v1/notebooks", nil, nil)
	if strings.Contains(w.Body.String(), spec.JupyterToken) || strings.Contains(w.Body.String(), spec.Secret) {
		t.Error("the API leaks the Jupyter token or the task secret")
	}
}

func TestFailedSubmitLeavesNothing(t *testing.T) {
	h := newHarness(t)
	h.slurm.submit = func(slurm.SubmitRequest) (string, error) { return "", errors.New("sbatch: error: invalid account") }
	w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{Config: map[string]any{}}, nil)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "invalid account") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var list api.GetNotebooksResponse
	h.do("GET", "/api/v1/notebooks", nil, &list, 200)
	entries, _ := os.ReadDir(filepath.Join(h.root, "jobuser"))
	if len(list.Notebooks) != 0 || len(entries) != 0 {
		t.Fatalf("left behind: %d rows, %d folders", len(list.Notebooks), len(entries))
	}
}

func TestSubmitRefusals(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{"resources": map[string]any{"slots": 9}}, "largest node in pool \"gpu\" (r1-gpu01-ib) has 4"},
		{map[string]any{"resources": map[string]any{"slots": 1, "resource_pool": "cpu"}}, "has no GPUs"},
		{map[string]any{"resources": map[string]any{"resource_pool": "x"}}, "no pool named \"x\""},
		{map[string]any{"resourcez": 1}, "resourcez: unknown field; did you mean resources?"},
	}
	for _, c := range cases {
		w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{Config: c.cfg}, nil)
		var e api.Error
		_ = json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != http.StatusBadRequest || !strings.Contains(e.Message, c.want) {
			t.Errorf("%v: %d %s, want %q", c.cfg, w.Code, w.Body, c.want)
		}
	}
}

func TestReconcileStates(t *testing.T) {
	h := newHarness(t)
	nb := h.start(nil)
	get := func() api.Notebook { return h.get(nb.ID[:8]) }
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "PENDING", Reason: "Resources"}
	h.srv.reconcile(context.Background())
	if n := get(); n.State != api.StateQueued || !strings.HasPrefix(n.Reason, "Resources: waiting for GPUs") {
		t.Fatalf("pending: %+v", n)
	}
	h.slurm.queryErr = errors.New("slurm_load_jobs error: Unable to contact slurm controller")
	h.srv.reconcile(context.Background())
	if n := get(); n.State != api.StateQueued {
		t.Fatalf("a failed query changed the state: %+v", n)
	}
	if !h.srv.view.status().Stale {
		t.Fatal("a failed query must mark the view stale")
	}
	h.slurm.queryErr = nil
	h.srv.view.nextTry = time.Time{} // skip the back-off
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "RUNNING", Nodes: []string{"r1-gpu01-ib"}}
	h.srv.reconcile(context.Background())
	if n := get(); n.State != api.StateStarting || n.Node != "r1-gpu01-ib" {
		t.Fatalf("running: %+v", n)
	}
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "CANCELLED"}
	h.srv.reconcile(context.Background())
	if n := get(); n.State != api.StateTerminated || n.Reason != "cancelled outside the bridge" {
		t.Fatalf("cancelled: %+v", n)
	}
	if r, _ := h.srv.Routes().Get(nb.ID); r.Target != nil || r.State != api.StateTerminated {
		t.Fatalf("route %+v", r)
	}
}

func TestKillThenCancelled(t *testing.T) {
	h := newHarness(t)
	nb := h.start(nil)
	h.do("POST", "/api/v1/notebooks/"+nb.ID+"/kill", nil, nil, 200)
	if len(h.slurm.cancels) != 1 || h.slurm.cancels[0] != "101" {
		t.Fatalf("cancels %v", h.slurm.cancels)
	}
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "CANCELLED"}
	h.srv.reconcile(context.Background())
	n := h.get(nb.ID)
	if n.State != api.StateTerminated || n.Reason != "killed by user" {
		t.Fatalf("%+v", n)
	}
}

func TestReadyCallback(t *testing.T) {
	h := newHarness(t)
	nb := h.start(nil)
	task, _ := h.srv.store.GetTask(context.Background(), nb.ID)
	h.slurm.jobs["101"] = slurm.Job{ID: "101", State: "RUNNING", Nodes: []string{"r1-gpu01-ib"}}
	path := "/api/v1/tasks/" + nb.ID + "/ready"
	h.token = ""
	h.srv.prove = func(context.Context, string, int, string, string) error { return nil }
	if w := h.req("POST", path, jobspec.ReadyRequest{Node: "r1-gpu01-ib", Port: 4000}, map[string]string{jobspec.SecretHeader: "wrong"}); w.Code != http.StatusForbidden {
		t.Fatalf("wrong secret: %d", w.Code)
	}
	if w := h.req("POST", path, jobspec.ReadyRequest{Node: "cpu1", Port: 4000}, map[string]string{jobspec.SecretHeader: task.Secret}); w.Code != http.StatusForbidden {
		t.Fatalf("node outside the allocation: %d", w.Code)
	}
	if r, _ := h.srv.Routes().Get(nb.ID); r.Target != nil {
		t.Fatalf("a refused callback changed the route: %+v", r)
	}
	if w := h.req("POST", path, jobspec.ReadyRequest{Node: "r1-gpu01-ib", Port: 4000}, map[string]string{jobspec.SecretHeader: task.Secret}); w.Code != http.StatusNoContent {
		t.Fatalf("ready: %d %s", w.Code, w.Body)
	}
	r, _ := h.srv.Routes().Get(nb.ID)
	if r.Target == nil || r.Target.Host != "10.0.0.1:4000" || r.Token != task.JupyterToken {
		t.Fatalf("route %+v", r)
	}
}

func TestNeedsToken(t *testing.T) {
	h := newHarness(t)
	h.token = "bogus"
	if w := h.req("GET", "/api/v1/notebooks", nil, nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("%d", w.Code)
	}
}

func TestOrphans(t *testing.T) {
	h := newHarness(t)
	nb := h.start(nil)
	known := slurm.Job{ID: "101", Name: "det-notebook-" + nb.ID, State: "RUNNING"}
	stranger := slurm.Job{ID: "202", Name: "det-notebook-00000000-0000-4000-8000-000000000000", State: "PENDING"}
	other := slurm.Job{ID: "303", Name: "training", State: "RUNNING"}
	h.slurm.jobs = map[string]slurm.Job{"101": known, "202": stranger, "303": other}
	orphans, err := h.srv.Orphans(context.Background())
	if err != nil || len(orphans) != 1 || orphans[0].ID != "202" {
		t.Fatalf("orphans %+v %v", orphans, err)
	}
	h.srv.abandoned.add("00000000-0000-4000-8000-000000000000")
	h.srv.sweepOrphans(context.Background())
	if len(h.slurm.cancels) != 1 || h.slurm.cancels[0] != "202" {
		t.Fatalf("the abandoned submit's job was not cancelled: %v", h.slurm.cancels)
	}
}

func TestSubmitDuringOutage(t *testing.T) {
	h := newHarness(t)
	h.slurm.submit = func(slurm.SubmitRequest) (string, error) {
		return "", &slurm.CommandError{Cmd: "sbatch", Stderr: "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)", Err: errors.New("exit 1")}
	}
	w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{Config: map[string]any{}}, nil)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "try again") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var list api.GetNotebooksResponse
	h.do("GET", "/api/v1/notebooks", nil, &list, 200)
	if len(list.Notebooks) != 0 {
		t.Fatal("a failed submit left a task")
	}
}

func TestLoginRateLimit(t *testing.T) {
	h := newHarness(t)
	h.token = ""
	for i := 0; i < 10; i++ {
		w := h.req("POST", "/api/v1/auth/login", api.LoginRequest{Username: "admin", Password: "wrong"}, nil)
		if w.Code != http.StatusUnauthorized && w.Code != http.StatusTooManyRequests {
			t.Fatalf("attempt %d: %d", i, w.Code)
		}
	}
	w := h.req("POST", "/api/v1/auth/login", api.LoginRequest{Username: "admin", Password: ""}, nil)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("after ten failures the right password got %d", w.Code)
	}
	if w := h.req("POST", "/api/v1/auth/login", api.LoginRequest{Username: "determined", Password: ""}, nil); w.Code != http.StatusOK {
		t.Fatalf("another user from the same address: %d", w.Code)
	}
}

func TestOthersTasks(t *testing.T) {
	h := newHarness(t)
	nb := h.start(nil)
	if _, err := h.srv.store.CreateUser(context.Background(), "bob", store.Plain("pw"), false); err != nil {
		t.Fatal(err)
	}
	var lr api.LoginResponse
	h.token = ""
	h.do("POST", "/api/v1/auth/login", api.LoginRequest{Username: "bob", Password: "pw"}, &lr, 200)
	h.token = lr.Token
	if w := h.req("GET", "/api/v1/notebooks/"+nb.ID, nil, nil); w.Code != http.StatusNotFound {
		t.Errorf("read of another's notebook: %d", w.Code)
	}
	if w := h.req("POST", "/api/v1/notebooks/"+nb.ID+"/kill", nil, nil); w.Code != http.StatusForbidden {
		t.Errorf("kill of another's notebook: %d", w.Code)
	}
	var list api.GetNotebooksResponse
	h.do("GET", "/api/v1/notebooks", nil, &list, 200)
	if len(list.Notebooks) != 0 {
		t.Errorf("bob sees %d notebooks", len(list.Notebooks))
	}
	if w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{}, nil); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "link-with-agent-user") {
		t.Errorf("an unlinked user's start: %d %s", w.Code, w.Body)
	}
}

func TestCookieNeedsSameOrigin(t *testing.T) {
	h := newHarness(t)
	tok := h.token
	h.token = ""
	cookie := map[string]string{"Cookie": CookieName + "=" + tok}
	if w := h.req("GET", "/api/v1/notebooks", nil, cookie); w.Code != http.StatusOK {
		t.Fatalf("cookie read: %d", w.Code)
	}
	if w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{}, map[string]string{"Cookie": CookieName + "=" + tok, "Origin": "http://evil.example"}); w.Code != http.StatusForbidden {
		t.Fatalf("cross-site POST with the cookie: %d", w.Code)
	}
	if w := h.req("POST", "/api/v1/notebooks", api.LaunchRequest{}, map[string]string{"Cookie": CookieName + "=" + tok, "Origin": "http://127.0.0.1:8080"}); w.Code != http.StatusOK {
		t.Fatalf("same-origin POST with the cookie: %d %s", w.Code, w.Body)
	}
}

func TestRefusesEmptyDefaultPasswords(t *testing.T) {
	dir := t.TempDir()
	cfg, err := siteconfig.Parse([]byte("db_path: db\njob_storage_root: "+dir+"/jobs\nlauncher_path: /x/det-launcher\nresource_pools: [{name: cpu, partition: cpu}]\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.SetPasswordCost(bcrypt.MinCost)
	s := New(cfg, st, &fakeSlurm{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := s.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "det-bridge set-password") {
		t.Fatalf("started with empty default passwords: %v", err)
	}
	for _, u := range []string{"admin", "determined"} {
		if err := st.SetPassword(context.Background(), u, store.Plain("s3cret")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("with passwords set: %v", err)
	}
}

func TestTokenCacheForgetsOnLogout(t *testing.T) {
	h := newHarness(t)
	h.do("GET", "/api/v1/notebooks", nil, nil, 200)
	h.do("GET", "/api/v1/notebooks", nil, nil, 200) // served from the cache
	h.do("POST", "/api/v1/auth/logout", nil, nil, http.StatusOK)
	if w := h.req("GET", "/api/v1/notebooks", nil, nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("a logged-out token still works: %d", w.Code)
	}
}

// testAccounts is the unit tests' account database: "jobuser" runs the
// tests' jobs, whatever the host has. Run as root, the bridge serves many
// users and jobuser is uid 5001; run as a normal user, the bridge launches
// only as itself (a single-user bridge), so jobuser is the tests' own uid,
// which must then be a person's (min_uid 1000 or above, not nobody). Other
// names are the host's.
func testAccounts(name string) (*user.User, error) {
	if name == "jobuser" {
		uid, gid := "5001", "5001"
		if os.Geteuid() != 0 {
			uid, gid = strconv.Itoa(os.Geteuid()), strconv.Itoa(os.Getegid())
		}
		return &user.User{Uid: uid, Gid: gid, Username: "jobuser", HomeDir: "/nonexistent"}, nil
	}
	return user.Lookup(name)
}
