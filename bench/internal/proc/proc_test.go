package proc

import (
	"strings"
	"testing"
)

func TestParseVmRSS(t *testing.T) {
	in := "Name:\tdet-bridge\nVmPeak:\t 1000 kB\nVmRSS:\t   20480 kB\nThreads:\t9\n"
	n, err := parseVmRSS(strings.NewReader(in))
	if err != nil || n != 20480<<10 {
		t.Fatalf("got %d, %v", n, err)
	}
	if _, err := parseVmRSS(strings.NewReader("Name:\tx\n")); err == nil {
		t.Fatal("no VmRSS line: want an error")
	}
}
