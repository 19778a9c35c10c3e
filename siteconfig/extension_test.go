package siteconfig

import (
	"strings"
	"testing"
	"time"
)

func TestExtensionPolicy(t *testing.T) {
	doc := withPool(`  - name: long
    partition: gpu
    preemptible: true
    max_walltime: "1-00:00"
    max_extensions: 3
`)
	c, err := Parse([]byte(doc), "/x")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Pool("long")
	if !p.Preemptible || p.MaxWalltimeLimit != 24*time.Hour || p.MaxExtensions != 3 {
		t.Fatalf("pool %+v", p)
	}
	if g, _ := c.Pool("gpu"); g.Preemptible || g.MaxWalltimeLimit != 0 {
		t.Fatalf("pool gpu %+v", g)
	}
	for _, tc := range []struct{ extra, want string }{
		{"    max_walltime: 2h\n", "resource_pools[2].max_walltime"},
		{"    max_walltime: \"0:30\"\n", "less than a minute"},
		{"    max_extensions: 2\n", "has no max_walltime"},
		{"    max_walltime: \"60\"\n    max_extensions: -1\n", "max_extensions: -1 is negative"},
	} {
		_, err := Parse([]byte(withPool("  - name: long\n    partition: gpu\n"+tc.extra)), "/x")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.extra, err, tc.want)
		}
	}
}

// withPool is the good config with one more pool, listed last.
func withPool(pool string) string {
	return strings.Replace(good, "default_aux_pool:", pool+"default_aux_pool:", 1)
}
