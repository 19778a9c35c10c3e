package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

const idleTimeout = 10 * time.Second

func idleCfg(typ string) map[string]any {
	cfg := map[string]any{"resources": map[string]any{"slots": 0, "resource_pool": "cpu"}, "idle_timeout": "10s"}
	if typ != "" {
		cfg["notebook_idle_type"] = typ
	}
	return cfg
}

// waitCancelled polls the API (which is not notebook activity) until the
// bridge cancels the notebook, and returns how long that took from since.
func waitCancelled(t *testing.T, c *client.Client, id string, since time.Time, within time.Duration) time.Duration {
	t.Helper()
	for {
		nb, err := taskOf(ctxT(t, 10*time.Second), c, id)
		if err != nil {
			t.Fatal(err)
		}
		if nb.State == api.StateTerminating || nb.State == api.StateTerminated {
			if !strings.HasPrefix(nb.Reason, "idle for more than ") {
				t.Fatalf("ended with reason %q, want idle", nb.Reason)
			}
			return time.Since(since)
		}
		if time.Since(since) > within {
			t.Fatalf("still %s %s after %s, want cancelled as idle\n%s", nb.State, nb.Reason, within, logsOf(c, id))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stillRunning fails unless the notebook stays RUNNING for d.
func stillRunning(t *testing.T, c *client.Client, id string, d time.Duration, why string) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		nb, err := taskOf(ctxT(t, 10*time.Second), c, id)
		if err != nil {
			t.Fatal(err)
		}
		if nb.State != api.StateRunning {
			t.Fatalf("%s, yet the notebook is %s (%s)", why, nb.State, nb.Reason)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func TestIdleNoTrafficNoKernels(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	nb := start(t, c, idleCfg(""))
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	t0 := time.Now()
	took := waitCancelled(t, c, nb.ID, t0, idleTimeout+10*time.Second)
	if took < idleTimeout-time.Second || took > idleTimeout+5*time.Second {
		t.Errorf("cancelled %s after RUNNING; want between %s and %s", took.Round(100*time.Millisecond), idleTimeout, idleTimeout+5*time.Second)
	}
	nb = waitState(t, c, nb.ID, api.StateTerminated, 10*time.Second)
	if out := run(t, "squeue", "-h", "-j", nb.SlurmJobID, "-t", "PENDING,RUNNING,COMPLETING"); strings.TrimSpace(out) != "" {
		t.Errorf("job still in squeue: %s", out)
	}
	if list := run(t, repo+"/bin/det", "notebook", "list"); !strings.Contains(list, "idle for more than 10s") {
		t.Errorf("det notebook list does not show the reason:\n%s", list)
	}
	if logs := run(t, repo+"/bin/det", "notebook", "logs", nb.ID); !strings.Contains(logs, "idle for more than 10s") {
		t.Errorf("det notebook logs do not show the reason:\n%s", logs)
	}
}

func TestIdleKernelKeepsDefaultType(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	nb := start(t, c, idleCfg(""))
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	kid := createKernel(t, c, nb.ID)
	stillRunning(t, c, nb.ID, idleTimeout+6*time.Second, "a kernel exists")
	if err := c.Do(ctxT(t, 30*time.Second), http.MethodDelete, "/proxy/"+nb.ID+"/api/kernels/"+kid, nil, nil); err != nil {
		t.Fatalf("delete kernel: %v", err)
	}
	took := waitCancelled(t, c, nb.ID, time.Now(), idleTimeout+10*time.Second)
	if took > idleTimeout+5*time.Second {
		t.Errorf("cancelled %s after the kernel was deleted", took)
	}
}

func TestIdleKernelConnections(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	nb := start(t, c, idleCfg("kernel_connections"))
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	kid := createKernel(t, c, nb.ID)
	conn := dial(t, c, "/proxy/"+nb.ID+"/api/kernels/"+kid+"/channels")
	stillRunning(t, c, nb.ID, idleTimeout+6*time.Second, "a kernel has an open websocket")
	conn.Close()
	// It goes once Jupyter's next report shows no connection; the quiet time
	// has long passed by then.
	waitCancelled(t, c, nb.ID, time.Now(), idleTimeout+20*time.Second)
}

func TestIdleActivityBusyKernel(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	nb := start(t, c, idleCfg("activity"))
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	k := openKernel(t, c, nb.ID)
	k.waitBusy(k.send("import time; time.sleep(25)"))
	k.conn.Close() // no websocket open while the cell runs
	cellEnds := time.Now().Add(25 * time.Second)
	stillRunning(t, c, nb.ID, 20*time.Second, "a cell is running")
	took := waitCancelled(t, c, nb.ID, cellEnds, idleTimeout+15*time.Second)
	if took < idleTimeout-2*time.Second {
		t.Errorf("cancelled %s after the cell ended; want no sooner than the idle timeout", took)
	}
}

func TestIdlePollingIsNotActivity(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	nb := start(t, c, idleCfg("activity"))
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	t0 := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			for _, p := range []string{"api/kernels", "api/status"} {
				req, _ := http.NewRequest(http.MethodGet, master+"/proxy/"+nb.ID+"/"+p, nil)
				req.Header.Set("Authorization", "Bearer "+c.Token)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		}
	}()
	took := waitCancelled(t, c, nb.ID, t0, idleTimeout+10*time.Second)
	if took > idleTimeout+5*time.Second {
		t.Errorf("polling kept the notebook %s", took)
	}
}

func TestIdleTerminalTypingKeeps(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	nb := start(t, c, idleCfg("kernel_connections"))
	nb = waitState(t, c, nb.ID, api.StateRunning, startWithin)
	var term struct {
		Name string `json:"name"`
	}
	if err := c.Do(ctxT(t, 30*time.Second), http.MethodPost, "/proxy/"+nb.ID+"/api/terminals", map[string]any{}, &term); err != nil {
		t.Fatalf("create terminal: %v", err)
	}
	conn := dial(t, c, "/proxy/"+nb.ID+"/terminals/websocket/"+term.Name)
	go func() { // drain the terminal's output
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	end := time.Now().Add(idleTimeout + 8*time.Second)
	for time.Now().Before(end) {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(`["stdin", "x"]`)); err != nil {
			t.Fatalf("type into the terminal: %v", err)
		}
		nb2, err := c.Notebook(ctxT(t, 10*time.Second), nb.ID)
		if err != nil {
			t.Fatal(err)
		}
		if nb2.State != api.StateRunning {
			t.Fatalf("typing into a terminal did not keep the notebook: %s %s", nb2.State, nb2.Reason)
		}
		time.Sleep(2 * time.Second)
	}
	conn.Close()
	waitCancelled(t, c, nb.ID, time.Now(), idleTimeout+10*time.Second)
}

func TestIdleBadInput(t *testing.T) {
	c := cluster(t)
	cases := []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{"idle_timeout": "soon"}, "idle_timeout"},
		{map[string]any{"idle_timeout": "-5s"}, "idle_timeout"},
		{map[string]any{"idle_timeout": "1s"}, "below this site's minimum"},
		{map[string]any{"notebook_idle_type": "never"}, "notebook_idle_type"},
	}
	for _, tc := range cases {
		_, err := c.StartNotebook(ctxT(t, 30*time.Second), tc.cfg, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error naming %q", tc.cfg, err, tc.want)
		}
	}
}

// createKernel starts a kernel through the proxy and returns its id.
func createKernel(t *testing.T, c *client.Client, id string) string {
	t.Helper()
	var k struct {
		ID string `json:"id"`
	}
	if err := c.Do(ctxT(t, 30*time.Second), http.MethodPost, "/proxy/"+id+"/api/kernels", map[string]any{"name": "python3"}, &k); err != nil {
		t.Fatalf("start kernel: %v", err)
	}
	return k.ID
}

// dial opens a websocket through the proxy with the bridge token.
func dial(t *testing.T, c *client.Client, path string) *websocket.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(master, "http") + path
	conn, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + c.Token}})
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		t.Fatalf("open websocket %s (HTTP %d): %v", path, code, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
