package main

import (
	"io"
	"os"
	"strings"
	"testing"
)

// output runs f with standard output and standard error captured.
func output(t *testing.T, f func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	ferr := f()
	os.Stdout, os.Stderr = stdout, stderr
	w.Close()
	return <-done, ferr
}

// TestCheckConfigMaster: check-config on a master.yaml prints one line per
// field mapped, then what it prints for any site config.
func TestCheckConfigMaster(t *testing.T) {
	file := "../../site-configs/devcluster-master.yaml"
	out, err := output(t, func() error { return checkConfig([]string{"--offline", file}) })
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		file + ": a Determined master.yaml; its fields map to these bridge settings:\n",
		"\n  resource_manager.job_storage_root -> job_storage_root = ",
		"\n  resource_manager.user_name -> unused (drives Determined's launcher",
		"\n" + file + ": OK\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "job_storage_root ->") > strings.Index(out, ": OK") {
		t.Errorf("the mapping comes first:\n%s", out)
	}
	own, err := output(t, func() error { return checkConfig([]string{"--offline", "../../site-configs/devcluster.yaml"}) })
	if err != nil || strings.Contains(own, "->") {
		t.Errorf("own format: %v\n%s", err, own)
	}
}
