package cluster

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindJupyter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "alice", "task-1")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("task.json", `{"task_id":"task-1","jupyter_token":"tok","proxy_mode":"direct"}`)
	write("output.log", "time=x level=INFO msg=\"context unpacked\"\n"+
		"time=x level=INFO msg=\"starting notebook server\" proxy_mode=direct port=41234 runtime=apptainer image=/x.sif\n")
	if os.Geteuid() == 0 {
		// jobdir refuses a folder of root's when run as root: give it away.
		for _, p := range []string{dir, filepath.Join(dir, "task.json"), filepath.Join(dir, "output.log")} {
			if err := os.Chown(p, 65534, 65534); err != nil {
				t.Skip("cannot give the folder away:", err)
			}
		}
	}
	j, err := FindJupyter(dir)
	if err != nil || j.Port != 41234 || j.Token != "tok" {
		t.Fatalf("got %+v, %v", j, err)
	}
	write("task.json", `{"task_id":"task-1","jupyter_token":"tok","proxy_mode":"tunnel"}`)
	if _, err := FindJupyter(dir); err == nil {
		t.Fatal("a tunnel-mode task was taken for a direct one")
	}
}
