package proc

import (
	"os"
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

func TestParseProcCPU(t *testing.T) {
	stat := "1234 (det bridge) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 10 5 20 0 9 0 100 1000 200 18446744073709551615"
	if got := parseProcCPU(stat); got != 3.15 { // (250+50+10+5)/100
		t.Fatalf("got %v", got)
	}
}

func TestTreeCPUSeesChildren(t *testing.T) {
	p, err := Start("busy", t.TempDir()+"/log", nil, "sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 5")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	found := false
	for _, c := range children(os.Getpid()) {
		if c == p.Pid() {
			found = true
		}
	}
	if !found {
		t.Fatalf("child %d not among %v", p.Pid(), children(os.Getpid()))
	}
}

func TestStopTwiceSignalsOnce(t *testing.T) {
	p, err := Start("sleeper", t.TempDir()+"/log", nil, "sleep", "30")
	if err != nil {
		t.Fatal(err)
	}
	p.Stop()
	select {
	case <-p.done:
	default:
		t.Fatal("the process runs on after Stop")
	}
	p.Stop() // must neither signal again nor wait
}
