package bridge

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/localpeer"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/jobspec"
)

// fakeSSHLauncher is the launcher's side of one connection: it takes the
// SSH upgrade with the task's token only, then echoes.
func fakeSSHLauncher(c net.Conn, token string) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if req.Header.Get("Authorization") != "token "+token || req.Header.Get("Upgrade") != jobspec.SSHUpgrade {
		_, _ = io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
		return
	}
	_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "+jobspec.SSHUpgrade+"\r\n\r\n")
	_, _ = io.Copy(c, br)
}

// TestShellSSHThroughBridge: a shell is launched with a key pair (the
// private half to its owner only, the public half in task.json), and its
// websocket at /proxy/<id>/ reaches the launcher's SSH upgrade: with the
// owner's token, or with none from the shell's POSIX user's socket; never
// with another user's token, from a browser, or from another local user.
func TestShellSSHThroughBridge(t *testing.T) {
	peer, peerErr := uint32(99999), error(nil)
	h := newHarnessSetup(t, "", "", func(s *Server) {
		s.peerUID = func(_, _ netip.AddrPort) (uint32, error) { return peer, peerErr }
	})
	var launched api.LaunchShellResponse
	if w := h.req("POST", "/api/v1/shells", api.LaunchRequest{}, nil); w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("launch: %d, Cache-Control %q: %s", w.Code, w.Header().Get("Cache-Control"), w.Body)
	} else if err := json.Unmarshal(w.Body.Bytes(), &launched); err != nil {
		t.Fatal(err)
	}
	sh := launched.Shell
	if !strings.HasPrefix(sh.PrivateKey, "-----BEGIN OPENSSH PRIVATE KEY-----") || !strings.HasPrefix(sh.PublicKey, "ssh-ed25519 ") ||
		sh.AgentUserGroup == nil || sh.AgentUserGroup.User != "jobuser" || !strings.HasPrefix(sh.SSHHostKey, "ssh-ed25519 ") || sh.SSHHostKey == strings.TrimSpace(sh.PublicKey) {
		t.Fatalf("launched shell: key %.40q, public %q, user %+v", sh.PrivateKey, sh.PublicKey, sh.AgentUserGroup)
	}
	raw, err := os.ReadFile(filepath.Join(h.root, "jobuser", sh.ID, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec jobspec.Spec
	if err := json.Unmarshal(raw, &spec); err != nil || spec.SSHAuthorizedKey != strings.TrimSpace(sh.PublicKey) || strings.Contains(string(raw), sh.PrivateKey) {
		t.Fatalf("task.json: %v, key %q", err, spec.SSHAuthorizedKey)
	}
	if pub, err := sshPublicKey(spec.SSHHostKey); err != nil || pub != sh.SSHHostKey {
		t.Fatalf("task.json's host key %v: its public half %q, the API shows %q", err, pub, sh.SSHHostKey)
	}
	var list api.GetShellsResponse
	h.do("GET", "/api/v1/shells", nil, &list, http.StatusOK)
	if len(list.Shells) != 1 || list.Shells[0].PrivateKey != "" {
		t.Fatalf("the list shows the key: %+v", list.Shells)
	}

	h.running(sh.ID, "n1")
	task, err := h.srv.store.GetTask(context.Background(), sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	route, _ := h.srv.routes.Get(sh.ID)
	route.Target, route.Prove = nil, nil
	route.Dial = func(context.Context) (net.Conn, error) {
		a, b := net.Pipe()
		go fakeSSHLauncher(b, task.JupyterToken)
		return a, nil
	}
	h.srv.routes.Set(sh.ID, route)
	srv := httptest.NewServer(h.h)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/proxy/" + sh.ID + "/"
	try := func(hdr http.Header) int {
		t.Helper()
		c, resp, err := websocket.DefaultDialer.Dial(url, hdr)
		if err != nil {
			if resp == nil {
				t.Fatal(err)
			}
			return resp.StatusCode
		}
		defer c.Close()
		if err := c.WriteMessage(websocket.BinaryMessage, []byte("SSH-2.0-test\r\n")); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.ReadMessage(); err != nil || string(got) != "SSH-2.0-test\r\n" {
			t.Fatalf("echo: %q %v", got, err)
		}
		return http.StatusSwitchingProtocols
	}
	owner := http.Header{"Authorization": {"Bearer " + h.token}}
	if code := try(owner); code != http.StatusSwitchingProtocols {
		t.Errorf("the owner's token: %d", code)
	}
	browser := owner.Clone()
	browser.Set("Origin", srv.URL)
	if code := try(browser); code != http.StatusForbidden {
		t.Errorf("from a browser: %d", code)
	}
	if _, err := h.srv.store.CreateUser(context.Background(), "bob", store.Plain("pw"), false); err != nil {
		t.Fatal(err)
	}
	_, bob, _ := h.login("bob", "pw", false)
	if code := try(http.Header{"Authorization": {"Bearer " + bob.Token}}); code != http.StatusForbidden {
		t.Errorf("another user's token: %d", code)
	}
	if code := try(nil); code != http.StatusForbidden {
		t.Errorf("no token, another local user: %d", code)
	}
	peerErr = localpeer.ErrNotFound
	if code := try(nil); code != http.StatusUnauthorized {
		t.Errorf("no token, not a local process: %d", code)
	}
	ju, _ := testAccounts("jobuser")
	uid, _ := strconv.ParseUint(ju.Uid, 10, 32)
	peer, peerErr = uint32(uid), nil
	if code := try(nil); code != http.StatusSwitchingProtocols {
		t.Errorf("no token, the shell's POSIX user: %d", code)
	}
	off := false
	if _, err := h.srv.store.PatchUser(context.Background(), task.OwnerID, store.UserPatch{Active: &off}); err != nil {
		t.Fatal(err)
	}
	if code := try(nil); code != http.StatusForbidden {
		t.Errorf("no token, the shell's POSIX user, the owner deactivated: %d", code)
	}
	if got := refusedSSH(t, h); got != 5 {
		t.Errorf("det_bridge_shell_ssh_refused_total = %v, want the 5 refusals", got)
	}
}

// refusedSSH reads det_bridge_shell_ssh_refused_total.
func refusedSSH(t *testing.T, h *harness) float64 {
	t.Helper()
	mfs, err := h.srv.metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "det_bridge_shell_ssh_refused_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return -1
}
