package suite

import (
	"strings"
	"testing"
)

func TestFindingsComputeAndSkipUnmeasured(t *testing.T) {
	d := map[string]float64{
		"http.static.1m.c32.rps.direct": 2000, "http.static.1m.c32.rps.bridge": 1000, "http.static.1m.c32.rps.nginx": 500,
		"http.static.1m.c32.rps.CHP": 400, "http.static.1m.c32.rps.tunnel": 250,
	}
	got := strings.Join(findings(d), "\n")
	for _, want := range []string{"bridge 0.50×, nginx 0.25×, CHP 0.20×", "tunnel ÷ direct mode, 1 MiB at 32 conns: 0.25×"} {
		if !strings.Contains(got, want) {
			t.Errorf("findings lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "CPU per") || strings.Contains(got, "idle") {
		t.Errorf("a finding of figures not measured:\n%s", got)
	}
}
