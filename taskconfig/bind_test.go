package taskconfig

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/det-slurm/bridge/runtimes"
)

// TestBindMountFields: each field of bind_mounts is one path to the
// runtime's bind parser, and the error names the field and the value.
func TestBindMountFields(t *testing.T) {
	cases := []struct {
		b    BindMount
		want string // "" = accepted
	}{
		{BindMount{HostPath: "/shared/data", ContainerPath: "/data"}, ""},
		{BindMount{HostPath: "/shared/my data", ContainerPath: "/data", ReadOnly: true}, ""},
		{BindMount{HostPath: "/shared/-x $(y)", ContainerPath: "/run/determined/workdir/x"}, ""},
		{BindMount{HostPath: "/shared/a,b", ContainerPath: "/data"}, `b[0].host_path: "/shared/a,b": Apptainer's bind syntax reads it as 2 binds`},
		{BindMount{HostPath: "/shared/a:b", ContainerPath: "/data"}, `b[0].host_path: "/shared/a:b": Apptainer's bind syntax reads it as "/shared/a" bound at "b"`},
		{BindMount{HostPath: "/shared/a", ContainerPath: "/data:ro"}, `b[0].container_path: "/data:ro"`},
		{BindMount{HostPath: "/shared/a", ContainerPath: "/data,/etc"}, `b[0].container_path: "/data,/etc": Apptainer's bind syntax reads it as 2 binds ("/data", "/etc")`},
		{BindMount{HostPath: "/shared/a^b", ContainerPath: "/data"}, `b[0].host_path: "/shared/a^b"`},
		{BindMount{HostPath: "/shared/a ", ContainerPath: "/data"}, `b[0].host_path: "/shared/a "`},
		{BindMount{HostPath: "/shared/a", ContainerPath: "/data:/x:id=2"}, `b[0].container_path`},
		{BindMount{HostPath: "/shared/a\nb", ContainerPath: "/data"}, `b[0].host_path: "/shared/a\nb" contains the control character U+000A`},
		{BindMount{HostPath: "rel", ContainerPath: "/data"}, `b[0].host_path: "rel" must be an absolute path`},
		{BindMount{HostPath: "/a", ContainerPath: ""}, `b[0].container_path: "" must be an absolute path`},
		{BindMount{HostPath: "/a", ContainerPath: "/run/determined/bin"}, `b[0].container_path: "/run/determined/bin" would shadow`},
	}
	for _, c := range cases {
		err := c.b.validate("b[0]")
		var fe *FieldError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v refused: %v", c.b, err)
		case c.want != "" && (!errors.As(err, &fe) || !strings.HasPrefix(err.Error(), c.want)):
			t.Errorf("%+v: %v, want %q", c.b, err, c.want)
		}
		if err != nil {
			continue
		}
		// What the runtime is given reads back as this mount alone.
		got, err := runtimes.ParseBinds(c.b.Spec())
		if err != nil || len(got) != 1 || got[0].Source != c.b.HostPath || got[0].Dest != c.b.ContainerPath || got[0].ReadOnly != c.b.ReadOnly {
			t.Errorf("%+v: %q reads back as %v, %v", c.b, c.b.Spec(), got, err)
		}
	}
}

// TestParseBindMounts: a -v value is read as the runtime reads --bind.
func TestParseBindMounts(t *testing.T) {
	good := map[string][]BindMount{
		"/a:/b":             {{HostPath: "/a", ContainerPath: "/b"}},
		"/a:/b:ro":          {{HostPath: "/a", ContainerPath: "/b", ReadOnly: true}},
		"/a":                {{HostPath: "/a", ContainerPath: "/a"}},
		"/a:/b:ro,/c:/d:rw": {{HostPath: "/a", ContainerPath: "/b", ReadOnly: true}, {HostPath: "/c", ContainerPath: "/d"}},
	}
	for in, want := range good {
		got, err := ParseBindMounts(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseBindMounts(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, part := range map[string]string{"/a:/b:rox": `"rox"`, "/a:/b,ro": `"/b,ro"`, "/a::/b": `":/b"`, "/a:/b:ro:x": `"x"`} {
		if _, err := ParseBindMounts(in); err == nil || !strings.HasPrefix(err.Error(), part+" in ") {
			t.Errorf("ParseBindMounts(%q): %v, want it to name %s", in, err, part)
		}
	}
}
