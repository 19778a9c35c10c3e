package e2e

import (
	"fmt"
	"sort"
	"testing"
)

// secCase is one attacker scenario of the security suite: item is the
// number of the threat it covers (README, "Security model"), name says what the
// attacker does.
type secCase struct {
	item int
	name string
	run  func(t *testing.T)
}

// secCases is filled by the security_*_test.go files through addSecCase.
var secCases []secCase

// addSecCase registers an attacker scenario; call it from an init function.
func addSecCase(item int, name string, run func(t *testing.T)) int {
	secCases = append(secCases, secCase{item: item, name: name, run: run})
	return len(secCases)
}

// TestSecurity plays a hostile cluster user (and a careless admin) against
// the live bridge on the real cluster: one subtest per case, one line per
// case in the summary, and "N passed, M failed" at the end.
func TestSecurity(t *testing.T) {
	cluster(t)
	cases := append([]secCase(nil), secCases...)
	sort.SliceStable(cases, func(i, j int) bool { return cases[i].item < cases[j].item })
	type result struct {
		name string
		ok   bool
	}
	var results []result
	for _, c := range cases {
		name := fmt.Sprintf("%02d-%s", c.item, c.name)
		ran := false
		ok := t.Run(name, func(t *testing.T) { ran = true; c.run(t) })
		if ran { // -run may leave a case out
			results = append(results, result{name, ok})
		}
	}
	passed, failed := 0, 0
	for _, r := range results {
		word := "PASS"
		if r.ok {
			passed++
		} else {
			word = "FAIL"
			failed++
		}
		fmt.Printf("security %s %s\n", word, r.name)
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
}
