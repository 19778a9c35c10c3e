package suite

import (
	"math"
	"os"
	"testing"

	"github.com/det-slurm/bridge/bench/internal/report"
)

// Every target's inputs are figures the smoke plan measures: a key or
// column named wrongly would leave the target "not measured" for good.
func TestTargetsAskForMeasuredFigures(t *testing.T) {
	p := planFor(true)
	have := planKeys(p)
	d := map[string]float64{}
	for k := range have {
		d[k] = 1
	}
	for _, tg := range targetsFor(p) {
		for _, c := range tg.in {
			if !have[c.k.Cell(c.col)] {
				t.Errorf("target %s asks for %s, which the smoke plan does not measure", tg.id, c.k.Cell(c.col))
			}
		}
	}
	for _, j := range judge(targetsFor(p), d) {
		if !j.Known {
			t.Errorf("target %s not known with every figure measured", j.Key)
		}
	}
}

func TestJudge(t *testing.T) {
	p := planFor(false)
	d := map[string]float64{
		"http.static.1k.c32.rps.bridge": 20000, "http.static.1k.c32.rps.CHP": 10000, // 2: not met (≥ 3)
		"http.paired.1k.c32.p99.bridge": 800, "http.paired.1k.c32.p99.direct": 500, // 0.3 ms: met
		"ctl.n1.pertick.bridge": 1, "ctl.n10.pertick.bridge": 1, "ctl.n50.pertick.bridge": 1,
		"ctl.n1.jobinfo.bridge": 60, "ctl.n10.jobinfo.bridge": 61, "ctl.n50.jobinfo.bridge": 300, // grows: -1
	}
	got := map[string]float64{}
	met := map[string]bool{}
	for _, j := range judge(targetsFor(p), d) {
		if j.Known {
			got[j.Key], met[j.Key] = j.Value, j.Met
		}
	}
	if len(got) != 3 || got["target.rps_vs_chp"] != 2 || met["target.rps_vs_chp"] ||
		got["target.p99_added_c32"] != 0.3 || !met["target.p99_added_c32"] || got["target.ctl_per_tick"] != -1 || met["target.ctl_per_tick"] {
		t.Fatalf("got %v, met %v", got, met)
	}
}

// The targets computed from the figures of the committed results are the
// ones those results report: the keys still name today's table's rows.
func TestTargetsOfLatestResults(t *testing.T) {
	md, err := os.ReadFile("../../results/latest.md")
	if err != nil {
		t.Skip("no results/latest.md")
	}
	d := report.ParseData(string(md))
	for _, j := range judge(targetsFor(planFor(false)), d) {
		if want, ok := d[j.Key]; !ok || !j.Known || math.Abs(j.Value-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: computed %v (known %v), the results say %v", j.Key, j.Value, j.Known, want)
		}
	}
}
