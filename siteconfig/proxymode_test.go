package siteconfig

import (
	"strings"
	"testing"

	"github.com/det-slurm/bridge/jobspec"
)

// TestProxyMode: tunnel by default, direct when the site says so, and a
// pool's own mode wins over the site's; other values fail naming the
// field.
func TestProxyMode(t *testing.T) {
	c, err := Parse([]byte(good), "/x")
	if err != nil {
		t.Fatal(err)
	}
	gpu, _ := c.Pool("gpu")
	if c.ProxyMode != jobspec.ProxyModeTunnel || c.ProxyModeOf(gpu) != jobspec.ProxyModeTunnel {
		t.Fatalf("default: site %q, pool %q", c.ProxyMode, c.ProxyModeOf(gpu))
	}
	doc := strings.Replace(good+"proxy_mode: direct\n", "partition: cpu", "partition: cpu\n    proxy_mode: tunnel", 1)
	if c, err = Parse([]byte(doc), "/x"); err != nil {
		t.Fatal(err)
	}
	gpu, _ = c.Pool("gpu")
	cpu, _ := c.Pool("cpu")
	if c.ProxyModeOf(gpu) != jobspec.ProxyModeDirect || c.ProxyModeOf(cpu) != jobspec.ProxyModeTunnel {
		t.Fatalf("site direct, cpu tunnel: gpu %q, cpu %q", c.ProxyModeOf(gpu), c.ProxyModeOf(cpu))
	}
	det, err := Load("../site-configs/devcluster-master.yaml")
	if err != nil || det.ProxyMode != jobspec.ProxyModeTunnel {
		t.Fatalf("a Determined master.yaml takes the default: %v %+v", err, det)
	}
	for _, bad := range []struct{ doc, want string }{
		{good + "proxy_mode: ssh\n", `proxy_mode: "ssh" is not tunnel or direct`},
		{strings.Replace(good, "partition: cpu", "partition: cpu\n    proxy_mode: Direct", 1), `resource_pools[1].proxy_mode: "Direct" (pool "cpu")`},
	} {
		if _, err := Parse([]byte(bad.doc), "/x"); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("got %v, want %q", err, bad.want)
		}
	}
}
