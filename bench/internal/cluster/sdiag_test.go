package cluster

import (
	"os"
	"testing"
)

func TestParseSdiag(t *testing.T) {
	data, err := os.ReadFile("testdata/sdiag.txt")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSdiag(string(data))
	if err != nil {
		t.Fatal(err)
	}
	if s.ByType["REQUEST_JOB_INFO"] != 403 || s.ByType["REQUEST_JOB_INFO_SINGLE"] != 233 || s.JobInfo() != 636 {
		t.Errorf("by type: %v", s.ByType)
	}
	if s.ByUser["root"] != 1646 || s.ByUser["alice"] != 22 || s.ByUser["bob"] != 1 {
		t.Errorf("by user: %v", s.ByUser)
	}
	if _, ok := s.ByType["Agent"]; ok {
		t.Error("a header line was read as a message type")
	}
}

func TestParseSdiagWithoutStats(t *testing.T) {
	if _, err := ParseSdiag("sdiag: error: Unable to contact slurm controller\n"); err == nil {
		t.Fatal("want an error")
	}
}
