package runtimes

import (
	"slices"
	"testing"
)

func TestTable(t *testing.T) {
	if !slices.Equal(Names(), []string{Apptainer, Singularity, None}) {
		t.Fatalf("names %v", Names())
	}
	for _, n := range Names() {
		c, ok := For(n)
		if !ok || !c.LiteralEnv || !c.GPU {
			t.Errorf("%s: %+v", n, c)
		}
		// A runtime that runs an image binds with Apptainer's syntax and
		// has a GPU flag; one that runs on the host does neither.
		if c.Isolated != (c.Binds == ApptainerBinds) || c.Isolated != (c.GPUFlag != "") || c.Isolated != (c.EnvPrefix != "") {
			t.Errorf("%s: inconsistent %+v", n, c)
		}
	}
	if c, _ := For(Singularity); c.EnvPrefix != "SINGULARITYENV_" {
		t.Errorf("singularity prefix %q", c.EnvPrefix)
	}
	if _, ok := For("podman"); ok {
		t.Error("podman is not a runtime")
	}
}
