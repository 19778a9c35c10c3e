package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

// TestCheckConfigSiteConfigs: every site config in site-configs passes
// check-config --offline, given as an argument or as --config.
func TestCheckConfigSiteConfigs(t *testing.T) {
	files, err := filepath.Glob("../../site-configs/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no site configs: %v", err)
	}
	for _, f := range files {
		for _, args := range [][]string{{"check-config", "--offline", f}, {"check-config", "--config", f, "--offline"}} {
			out, errOut, err := execute(t, "", args...)
			if err != nil || !strings.HasSuffix(out, f+": OK\n") {
				t.Errorf("%v: %v\n%s%s", args, err, out, errOut)
			}
		}
	}
}

// TestCheckConfigMaster: check-config on a master.yaml prints one line per
// field mapped, then what it prints for any site config.
func TestCheckConfigMaster(t *testing.T) {
	file := "../../site-configs/devcluster-master.yaml"
	out, errOut, err := execute(t, "", "check-config", "--offline", file)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	for _, want := range []string{
		file + ": a Determined master.yaml; its fields map to these bridge settings:\n",
		"\n  resource_manager.job_storage_root -> job_storage_root = ",
		"\n  resource_manager.user_name -> unused (drives Determined's launcher",
		"\n" + file + ": OK\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "job_storage_root ->") > strings.Index(out, ": OK") {
		t.Errorf("the mapping comes first:\n%s", out)
	}
	own, _, err := execute(t, "", "check-config", "--offline", "../../site-configs/devcluster.yaml")
	if err != nil || strings.Contains(own, "->") {
		t.Errorf("own format: %v\n%s", err, own)
	}
}

// TestCheckConfigMissingPaths: offline, the paths that do not exist are
// warnings on the error stream; a config that does not parse is refused.
func TestCheckConfigMissingPaths(t *testing.T) {
	cfg := writeSite(t)
	out, errOut, err := execute(t, "", "check-config", "--offline", cfg)
	if err != nil || !strings.Contains(errOut, cfg+": warning: ") || !strings.Contains(out, cfg+": OK") || strings.Contains(out, "warning") {
		t.Errorf("%v\nout: %s\nerr: %s", err, out, errOut)
	}
	if _, _, err := execute(t, "", "check-config", "--offline", cfg+".none"); err == nil {
		t.Error("a missing file passed")
	}
}

// writeCheckableSite writes a site config whose paths all exist, with
// pools gpu (slots_per_node 4) and cpu, and returns its path.
func writeCheckableSite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	launcher := filepath.Join(dir, "det-launcher")
	for _, bin := range []string{launcher, filepath.Join(dir, "det")} {
		if err := os.WriteFile(bin, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "site.yaml")
	yaml := "db_path: " + filepath.Join(dir, "db", "bridge.db") + "\njob_storage_root: " + dir + "\nlauncher_path: " + launcher +
		"\ncontainer_runtime: {type: none}\nresource_pools:\n  - {name: gpu, partition: gpu, gpu: {gres: gpu}, slots_per_node: 4}\n  - {name: cpu, partition: cpu}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCheckConfigAgainstSlurm: online, the pools are checked against the
// nodes Slurm reports, with the texts the bridge gives when it starts,
// and a Slurm that does not answer is said so.
func TestCheckConfigAgainstSlurm(t *testing.T) {
	cfg := writeCheckableSite(t)
	gpu := slurm.Node{Name: "g1", Partitions: []string{"gpu"}, GPUs: 4}
	cpu := slurm.Node{Name: "c1", Partitions: []string{"cpu"}, Default: true, DefaultPartition: "cpu"}
	for _, c := range []struct {
		name  string
		nodes []slurm.Node
		err   error
		want  string // the error; "" for OK
	}{
		{"ok", []slurm.Node{gpu, cpu}, nil, ""},
		{"unknown partition", []slurm.Node{gpu}, nil, cfg + `: resource_pools[1] (pool cpu): partition "cpu" does not exist in Slurm (partitions: gpu)`},
		{"slots_per_node", []slurm.Node{{Name: "g1", Partitions: []string{"gpu"}, GPUs: 8}, cpu}, nil,
			cfg + ": resource_pools[0] (pool gpu): slots_per_node is 4, but Slurm's nodes in partition gpu have up to 8 GPUs"},
		{"no answer", nil, errors.New("list nodes: sinfo: error: Unable to contact slurm controller"),
			cfg + ": ask Slurm for its partitions: list nodes: sinfo: error: Unable to contact slurm controller"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			asked := 0
			o := checkConfigOptions{file: cfg, nodes: func(context.Context, *siteconfig.Config, string) ([]slurm.Node, error) {
				asked++
				return c.nodes, c.err
			}}
			err := runCheckConfig(context.Background(), o, streams{out: &out, err: &errOut})
			if asked != 1 {
				t.Errorf("Slurm asked %d times", asked)
			}
			switch {
			case c.want == "" && (err != nil || out.String() != cfg+": OK\n" || errOut.Len() != 0):
				t.Errorf("%v\nout: %s\nerr: %s", err, out.String(), errOut.String())
			case c.want != "" && (err == nil || err.Error() != c.want || strings.Contains(out.String(), "OK")):
				t.Errorf("got %v\nwant %s\nout: %s", err, c.want, out.String())
			}
		})
	}
	offline := checkConfigOptions{file: cfg, offline: true, nodes: func(context.Context, *siteconfig.Config, string) ([]slurm.Node, error) {
		t.Error("offline asked Slurm")
		return nil, nil
	}}
	if err := runCheckConfig(context.Background(), offline, streams{out: io.Discard, err: io.Discard}); err != nil {
		t.Errorf("offline: %v", err)
	}
}

// TestCheckConfigTwoClusters: each pool is checked against its own
// cluster's partitions, and each cluster is asked once.
func TestCheckConfigTwoClusters(t *testing.T) {
	cfg := writeCheckableSite(t)
	data, _ := os.ReadFile(cfg)
	data = append(data, "  - {name: gpu2, cluster: c2, partition: gpu2}\nclusters:\n  - {name: c2}\n"...)
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	local := []slurm.Node{{Name: "g1", Partitions: []string{"gpu"}, GPUs: 4}, {Name: "c1", Partitions: []string{"cpu"}}}
	for _, c := range []struct {
		remote []slurm.Node
		want   string
	}{
		{[]slurm.Node{{Name: "c2-gpu01", Partitions: []string{"gpu2"}}}, ""},
		{[]slurm.Node{{Name: "c2-gpu01", Partitions: []string{"gpu"}}}, `resource_pools[2] (pool gpu2): partition "gpu2" does not exist in Slurm cluster c2 (partitions: gpu)`},
	} {
		var asked []string
		o := checkConfigOptions{file: cfg, nodes: func(_ context.Context, _ *siteconfig.Config, cluster string) ([]slurm.Node, error) {
			asked = append(asked, cluster)
			if cluster == "c2" {
				return c.remote, nil
			}
			return local, nil
		}}
		err := runCheckConfig(context.Background(), o, streams{out: io.Discard, err: io.Discard})
		if strings.Join(asked, ",") != ",c2" {
			t.Errorf("clusters asked: %q", asked)
		}
		if (c.want == "" && err != nil) || (c.want != "" && (err == nil || !strings.HasSuffix(err.Error(), c.want))) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}
