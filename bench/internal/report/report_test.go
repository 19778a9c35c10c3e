package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sample() *Results {
	return &Results{
		Started: time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC),
		Sections: []Section{{
			Title: "Proxy", Columns: []string{"bridge", "direct", "nginx"}, Compare: true,
			Rows: []Row{
				{Key: "http.1k.c32.rps", Label: "1 KiB, 32 conns", Unit: "req/s", Kind: Rate, Values: map[string]float64{"bridge": 10000, "direct": 20000, "nginx": 15000}},
				{Key: "http.1k.c32.p99", Label: "p99", Unit: "us", Kind: Latency, Values: map[string]float64{"bridge": 1500, "direct": 900}},
			},
		}},
		Targets:  []Target{{Key: "target.x", Name: "x", Figure: "bridge ÷ direct", Value: 0.5, Want: "≥ 0.9", Known: true}},
		Findings: []string{"bridge ÷ direct: 0.5"},
	}
}

func TestMarkdownComparesAndRoundTrips(t *testing.T) {
	prev := map[string]float64{"http.1k.c32.rps.bridge": 9000, "target.x": 0.4}
	md := Markdown(sample(), prev, "old")
	for _, want := range []string{"0.50×", "0.67×", "+600 µs", "10,000", "9,000", "| x | bridge ÷ direct | 0.5 | ≥ 0.9 | not met | 0.4 |",
		"Targets: 0 of 1 met", "Previous: old.", "- bridge ÷ direct: 0.5"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	data := ParseData(md)
	if data["http.1k.c32.rps.bridge"] != 10000 || data["target.x"] != 0.5 {
		t.Fatalf("data did not round-trip: %v", data)
	}
}

func TestWriteLatestAndHistory(t *testing.T) {
	dir := t.TempDir()
	if m, title := Previous(dir); m != nil || title != "" {
		t.Fatal("empty folder: want no previous")
	}
	md := Markdown(sample(), nil, "")
	if err := Write(dir, md, []string{"timestamp", "x"}, map[string]string{"timestamp": "t1", "x": "0.5"}); err != nil {
		t.Fatal(err)
	}
	// A later run with another column keeps the file's columns.
	if err := Write(dir, md, []string{"timestamp", "x", "y"}, map[string]string{"timestamp": "t2", "y": "1"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "history.csv"))
	if string(data) != "timestamp,x\nt1,0.5\nt2,\n" {
		t.Fatalf("history.csv:\n%s", data)
	}
	if m, title := Previous(dir); m["target.x"] != 0.5 || title != "2026-11-26 23:00:00 UTC" {
		t.Fatalf("previous = %v, %q", m, title)
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		v    float64
		unit string
		want string
	}{{1234567, "req/s", "1,234,567"}, {850, "us", "850 µs"}, {2500, "us", "2.50 ms"}, {12.34, "MiB", "12.3 MiB"}, {3.456, "s", "3.46 s"}} {
		if got := Format(c.v, c.unit); got != c.want {
			t.Errorf("Format(%v, %s) = %q, want %q", c.v, c.unit, got, c.want)
		}
	}
}
