package runtimes

import (
	"strings"
	"testing"

	"github.com/sylabs/singularity/v4/pkg/util/bind"
)

// FuzzParseBinds: whatever ParseBinds accepts, Apptainer's parser reads
// as the same binds, and each bind, rendered, reads back as itself; every
// refusal names a part of the input.
func FuzzParseBinds(f *testing.F) {
	for _, s := range []string{"/a", "/a:/b:ro", "/a:/b:ro,/c", "/a^b:/c", " /a", "/a::ro", "/a:/b:id=2", "/a,,/b", "/a:/b,ro"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseBinds(s)
		if err != nil {
			be, ok := err.(*BindError)
			if !ok || be.Input != s || !strings.Contains(s, be.Part) {
				t.Fatalf("ParseBinds(%q): %v does not name a part of the input", s, err)
			}
			return
		}
		paths, err := bind.ParseBindPath(s)
		if err != nil || len(paths) != len(got) {
			t.Fatalf("ParseBinds(%q) = %v, Apptainer reads %v, %v", s, got, paths, err)
		}
		for i, b := range got {
			if paths[i].Source != b.Source || paths[i].Destination != b.Dest || paths[i].Readonly() != b.ReadOnly {
				t.Fatalf("ParseBinds(%q)[%d] = %v, Apptainer reads %+v", s, i, b, paths[i])
			}
			back, err := ParseBinds(b.String())
			if err != nil || len(back) != 1 || back[0] != b {
				t.Fatalf("%v renders as %q, which reads back as %v, %v", b, b.String(), back, err)
			}
		}
	})
}
