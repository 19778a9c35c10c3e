package siteconfig

import (
	"strings"
	"testing"
	"time"

	"github.com/det-slurm/bridge/slurm"
)

const twoClusters = good + `
clusters:
  - name: devcluster2
    slurm_interface: cli
`

func TestClusters(t *testing.T) {
	doc := strings.Replace(twoClusters, "  - name: cpu\n    partition: cpu\n", "  - name: cpu\n    partition: cpu\n  - name: gpu2\n    cluster: devcluster2\n    partition: gpu2\n", 1)
	c, err := Parse([]byte(doc), "/x")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Pool("gpu2")
	if p.Cluster != "devcluster2" || c.Clusters[0].SlurmInterface != SlurmInterfaceCLI {
		t.Fatalf("pool %+v, clusters %+v", p, c.Clusters)
	}
	if names := c.ClusterNames(); len(names) != 2 || names[0] != "" || names[1] != "devcluster2" {
		t.Fatalf("cluster names %q", names)
	}
	if c.ClusterLabel("") != "local" || c.ClusterLabel("devcluster2") != "devcluster2" {
		t.Fatal("labels")
	}
}

func TestClustersRefused(t *testing.T) {
	cases := []struct{ doc, want string }{
		{twoClusters + "  - name: devcluster2\n", `clusters[1].name: "devcluster2" is listed twice`},
		{twoClusters + "  - {name: c3, slurm_interface: rest}\n", `clusters[1].slurmrestd: slurm_interface "rest" needs url, jwt_key and user`},
		{twoClusters + "  - {name: c3, slurmrestd: {url: 'http://h:6820', jwt_key: k}}\n", `clusters[1].slurmrestd: given, but slurm_interface is "cli"`},
		{twoClusters + "  - {name: c3, slurm_interface: rest, slurmrestd: {url: 'ftp://h', jwt_key: k}}\n", `clusters[1].slurmrestd.url: "ftp://h" is not`},
		{twoClusters + "  - {name: c3, slurm_interface: rest, slurmrestd: {url: 'http://h:6820'}}\n", `clusters[1].slurmrestd.jwt_key: required`},
		{twoClusters + "  - {name: c3, slurm_interface: rest, slurmrestd: {url: 'http://h:6820', jwt_key: k, timeout: 1h}}\n", `clusters[1].slurmrestd.timeout: "1h" is not`},
		{twoClusters + "slurm_interface: rest\n", `slurmrestd: slurm_interface "rest" needs`},
		{twoClusters + "  - {name: c3, slurm_interface: ssh}\n", `clusters[1].slurm_interface: "ssh" is neither`},
		{twoClusters + "  - {name: local}\n", `clusters[1].name: "local" is reserved`},
		{twoClusters + "  - {name: 'a b'}\n", `clusters[1].name: "a b" is not a Slurm cluster name`},
		{twoClusters + "  - {slurm_interface: cli}\n", `clusters[1].name: required`},
		{strings.Replace(twoClusters, "    partition: cpu\n", "    partition: cpu\n    cluster: other\n", 1),
			`resource_pools[1].cluster: pool "cpu" names cluster "other", which clusters: does not list (known: "" (the local cluster), devcluster2)`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc), "/x")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// TestSettleClusterPools: each pool's partition is looked up in its own
// cluster; auto pools and defaults come from the local cluster only.
func TestSettleClusterPools(t *testing.T) {
	doc := strings.Replace(twoClusters, "  - name: cpu\n    partition: cpu\n", "  - name: cpu\n    partition: cpu\n  - name: gpu2\n    cluster: devcluster2\n    partition: gpu2\n    gpu: {gres: gpu}\n", 1)
	c, err := Parse([]byte(doc), "/x")
	if err != nil {
		t.Fatal(err)
	}
	local := []slurm.Node{
		{Name: "g1", Partitions: []string{"gpu"}, Default: true, DefaultPartition: "gpu", GPUs: 4},
		{Name: "c1", Partitions: []string{"cpu"}},
	}
	remote := []slurm.Node{{Name: "c2-gpu01", Partitions: []string{"gpu2"}, Default: true, DefaultPartition: "gpu2", GPUs: 2}}
	s, err := SettleClusterPools(c, map[string][]slurm.Node{"": local, "devcluster2": remote})
	if err != nil || len(s.Pools) != 3 || s.DefaultCompute != "gpu" {
		t.Fatalf("settled %+v, %v", s, err)
	}
	// gpu2 is not a partition of the local cluster.
	if _, err := SettleClusterPools(c, map[string][]slurm.Node{"": local, "devcluster2": nil}); err == nil ||
		!strings.Contains(err.Error(), `resource_pools[2] (pool gpu2): partition "gpu2" does not exist in Slurm cluster devcluster2`) {
		t.Fatalf("got %v", err)
	}
	if _, err := SettleClusterPools(c, map[string][]slurm.Node{"": append(local, remote...)}); err == nil {
		t.Fatal("a remote pool was checked against the local cluster")
	}
}

func TestPoolSbatchClusters(t *testing.T) {
	doc := strings.Replace(good, "    partition: cpu\n", "    partition: cpu\n    sbatch_args: [\"--clusters=x\"]\n", 1)
	if _, err := Parse([]byte(doc), "/x"); err == nil || !strings.Contains(err.Error(), "resource_pools[1].sbatch_args[0]") {
		t.Fatalf("got %v", err)
	}
}

// TestSlurmrestdConfig: a cluster reached through slurmrestd keeps its
// url, its key (relative to the config's folder) and its user (root by
// default); a pool on it with an sbatch option slurmrestd cannot take is
// refused, naming the pool.
func TestSlurmrestdConfig(t *testing.T) {
	doc := twoClusters + "  - name: c3\n    slurm_interface: rest\n    slurmrestd: {url: 'http://127.0.0.1:6821', jwt_key: keys/jwt.key}\n"
	c, err := Parse([]byte(doc), "/site")
	if err != nil {
		t.Fatal(err)
	}
	iface, r := c.InterfaceOf("c3")
	if iface != SlurmInterfaceREST || r == nil || r.URL != "http://127.0.0.1:6821" || r.JWTKey != "/site/keys/jwt.key" || r.User != "root" || r.TimeoutDuration != 15*time.Second {
		t.Errorf("c3: %s %+v", iface, r)
	}
	if iface, r := c.InterfaceOf(""); iface != SlurmInterfaceCLI || r != nil {
		t.Errorf("the local cluster: %s %+v", iface, r)
	}
	bad := strings.Replace(doc, "    partition: cpu\n", "    partition: cpu\n    cluster: c3\n    sbatch_args: [--wckey=x]\n", 1)
	if _, err := Parse([]byte(bad), "/site"); err == nil || !strings.Contains(err.Error(), `pool "cpu" is on a cluster reached through slurmrestd`) || !strings.Contains(err.Error(), "--wckey") {
		t.Errorf("a pool with --wckey on the rest cluster: %v", err)
	}
}
