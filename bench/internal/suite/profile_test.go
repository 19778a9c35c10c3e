package suite

import "testing"

func TestParseGoStats(t *testing.T) {
	heap := "heap profile: 1: 2 [3: 4] @ heap/1048576\n\n# runtime.MemStats\n# HeapInuse = 4096000\n# Stack = 819200 / 819200\n"
	g, err := parseGoStats(heap, "goroutine profile: total 42\n7 @ 0x1\n")
	if err != nil {
		t.Fatal(err)
	}
	if g.goroutines != 42 || g.heap != 4096000 || g.stack != 819200 {
		t.Fatalf("got %+v", g)
	}
	if _, err := parseGoStats("nothing", "goroutine profile: total 1"); err == nil {
		t.Fatal("no error for a profile without MemStats")
	}
}
