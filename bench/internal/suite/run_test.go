package suite

import (
	"sort"
	"testing"
)

func TestSectionOrder(t *testing.T) {
	titles := []string{"7. Before/after", "1b. Jupyter", "10. Later", "2. Websocket", "1. HTTP"}
	sort.Slice(titles, func(i, j int) bool { return sectionOrder(titles[i]) < sectionOrder(titles[j]) })
	want := []string{"1. HTTP", "1b. Jupyter", "2. Websocket", "7. Before/after", "10. Later"}
	for i := range want {
		if titles[i] != want[i] {
			t.Fatalf("order %v, want %v", titles, want)
		}
	}
}
