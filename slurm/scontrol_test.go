package slurm

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scontrol runs the installed `scontrol show hostnames`, Slurm's own
// reading of a node list, as the oracle for ExpandHostlist. It needs no
// controller, only a slurm.conf: the test writes a minimal one.
type scontrol struct {
	path string
	env  []string
}

// findScontrol returns nil when scontrol is not installed.
func findScontrol(t testing.TB) *scontrol {
	t.Helper()
	path, err := exec.LookPath("scontrol")
	if err != nil {
		return nil
	}
	conf := filepath.Join(t.TempDir(), "slurm.conf")
	if err := os.WriteFile(conf, []byte("ClusterName=hostlisttest\nSlurmctldHost=localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// POSIXLY_CORRECT: a list starting with "-" is not an option.
	return &scontrol{path: path, env: []string{"SLURM_CONF=" + conf, "POSIXLY_CORRECT=1", "LANG=C", "PATH=" + os.Getenv("PATH")}}
}

// hostnames returns what scontrol prints for list. scontrol says
// "Invalid hostlist" on stderr and exits 0, so a list it refuses gives
// no names, like a list of separators only.
func (s *scontrol) hostnames(t testing.TB, list string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := ExecRunner{}.Run(ctx, Cmd{Name: s.path, Args: []string{"show", "hostnames", list}, Env: s.env})
	if err != nil {
		t.Fatalf("scontrol show hostnames %q: %v", list, err)
	}
	return strings.Fields(string(out))
}
