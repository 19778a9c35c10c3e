package taskconfig

import (
	"fmt"
	"path"
	"strings"

	"github.com/det-slurm/bridge/runtimes"
)

// ParseBindMounts reads a -v value, HOST_PATH[:CONTAINER_PATH[:ro]] or
// several of them separated by commas, as the container runtime reads a
// bind string (package runtimes). The mounts' paths are checked later,
// with the rest of the config (Validate).
func ParseBindMounts(s string) ([]BindMount, error) {
	binds, err := runtimes.ParseBinds(s)
	if err != nil {
		return nil, err
	}
	mounts := make([]BindMount, len(binds))
	for i, b := range binds {
		mounts[i] = BindMount{HostPath: b.Source, ContainerPath: b.Dest, ReadOnly: b.ReadOnly}
	}
	return mounts, nil
}

// validate checks one bind mount, p naming it: each path absolute, one
// line of text, and one path to the runtime's bind parser (no ',' ':' or
// '^', no space at either end), and the container path clear of the
// bridge's own folder.
func (b BindMount) validate(p string) error {
	for _, f := range []struct{ field, v string }{{".host_path", b.HostPath}, {".container_path", b.ContainerPath}} {
		if err := checkText(f.v, false); err != nil {
			return &FieldError{Path: p + f.field, Msg: quote(f.v) + " " + err.Error()}
		}
		if !path.IsAbs(f.v) {
			return &FieldError{Path: p + f.field, Msg: fmt.Sprintf("%s must be an absolute path", quote(f.v))}
		}
		if err := runtimes.CheckPath(f.v); err != nil {
			return &FieldError{Path: p + f.field, Msg: err.Error()}
		}
	}
	cp := path.Clean(b.ContainerPath)
	if cp == ReservedContainerPath || strings.HasPrefix(cp, ReservedContainerPath+"/") && !strings.HasPrefix(cp, "/run/determined/workdir/") {
		return &FieldError{Path: p + ".container_path", Msg: fmt.Sprintf("%s would shadow %s", quote(b.ContainerPath), ReservedContainerPath)}
	}
	return nil
}

// Spec renders the bind mount, its paths cleaned, in the runtime's bind
// syntax (SRC:DST[:ro]); for a mount that passed validate it reads back
// as this mount alone.
func (b BindMount) Spec() string {
	return runtimes.Bind{Source: path.Clean(b.HostPath), Dest: path.Clean(b.ContainerPath), ReadOnly: b.ReadOnly}.String()
}
