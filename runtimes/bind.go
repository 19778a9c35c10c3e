package runtimes

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sylabs/singularity/v4/pkg/util/bind"
)

// Bind is one bind mount: a host path, the path it shows at in the
// container, and whether it is read-only there.
type Bind struct {
	Source   string
	Dest     string
	ReadOnly bool
}

// String renders b in Apptainer's bind syntax, SRC:DST[:ro].
func (b Bind) String() string {
	s := b.Source + ":" + b.Dest
	if b.ReadOnly {
		s += ":ro"
	}
	return s
}

// BindError is a bind string that cannot mean what it says; Part is the
// piece at fault ("" when it is the whole Input).
type BindError struct {
	Input string
	Part  string
	Msg   string
}

func (e *BindError) Error() string {
	if e.Part == "" || e.Part == e.Input {
		return quote(e.Input) + ": " + e.Msg
	}
	return quote(e.Part) + " in " + quote(e.Input) + ": " + e.Msg
}

// pathRule is what a path must be to travel in a bind string.
const pathRule = "a path in a bind may not hold ',' ':' or '^', nor start or end with a space"

// ParseBinds reads s as Apptainer reads a --bind value, with its own
// parser: SRC[:DST[:OPTS]], several separated by commas, DST the same as
// SRC when left out. It returns exactly what the runtime would bind, or a
// *BindError naming the part the runtime would read otherwise than written
// (a dropped '^', an empty part, a space trimmed off), a path that is not
// one (a destination such as "/d,ro"), or an option other than ro and rw.
// Paths are neither cleaned nor required to be absolute here.
func ParseBinds(s string) ([]Bind, error) {
	paths, err := bind.ParseBindPath(s)
	if err != nil {
		return nil, parserError(s, err)
	}
	if len(paths) == 0 {
		return nil, &BindError{Input: s, Msg: "no bind given; write HOST_PATH[:CONTAINER_PATH[:ro]]"}
	}
	if err := asWritten(s, paths); err != nil {
		return nil, err
	}
	binds := make([]Bind, 0, len(paths))
	for _, p := range paths {
		for _, part := range []string{p.Source, p.Destination} {
			if part == "" {
				return nil, &BindError{Input: s, Msg: "has an empty path after ':'"}
			}
			if err := CheckPath(part); err != nil {
				return nil, &BindError{Input: s, Part: part, Msg: err.(*BindError).Msg}
			}
		}
		ro, err := readOnly(s, p)
		if err != nil {
			return nil, err
		}
		binds = append(binds, Bind{Source: p.Source, Dest: p.Destination, ReadOnly: ro})
	}
	return binds, nil
}

// CheckPath returns a *BindError when p cannot be one path of a bind
// string: when Apptainer's parser would read p alone as anything but p
// bound at p.
func CheckPath(p string) error {
	if p == "" {
		return &BindError{Input: p, Msg: "is empty"}
	}
	paths, err := bind.ParseBindPath(p)
	if err == nil && len(paths) == 1 && paths[0].Source == p && paths[0].Destination == p && len(paths[0].Options) == 0 {
		return nil
	}
	return &BindError{Input: p, Msg: "Apptainer's bind syntax reads it as " + describe(paths, err) + "; " + pathRule}
}

// parserError names the part Apptainer's parser refused.
func parserError(s string, err error) *BindError {
	msg := strings.TrimPrefix(err.Error(), "while getting bind path: ")
	if opt, ok := strings.CutSuffix(msg, " is not a valid bind option"); ok {
		if opt == "" {
			return &BindError{Input: s, Msg: "has an empty option; the options are ro and rw"}
		}
		return &BindError{Input: s, Part: opt, Msg: "is not a bind option; the options are ro and rw"}
	}
	if before, ok := strings.CutPrefix(msg, "wrong bind syntax: "); ok {
		if i := strings.Index(s, before); i >= 0 && i+len(before) < len(s) {
			return &BindError{Input: s, Part: nextPart(s[i+len(before):]), Msg: "is a fourth part after HOST_PATH:CONTAINER_PATH:OPTIONS; " + pathRule}
		}
		return &BindError{Input: s, Msg: "has more parts than HOST_PATH:CONTAINER_PATH:OPTIONS; " + pathRule}
	}
	return &BindError{Input: s, Msg: msg}
}

// readOnly returns whether p is read-only, refusing options that bind
// something other than a host folder, or ro and rw together.
func readOnly(s string, p bind.Path) (bool, error) {
	for name, o := range p.Options {
		switch {
		case name != "ro" && name != "rw":
			return false, &BindError{Input: s, Part: name + "=" + o.Value, Msg: "is not supported: binds here are host folders, and the options are ro and rw"}
		case o.Value != "":
			return false, &BindError{Input: s, Part: name + "=" + o.Value, Msg: "takes no value; write " + name}
		}
	}
	if p.Options["ro"] != nil && p.Options["rw"] != nil {
		return false, &BindError{Input: s, Part: p.Source + ":" + p.Destination, Msg: "has both ro and rw"}
	}
	return p.Readonly(), nil
}

// asWritten walks s along what the parser read and names the first part
// the parser did not read as written.
func asWritten(s string, paths []bind.Path) error {
	rest := s
	fail := func() error {
		part := rest
		if i := strings.IndexAny(part[min(1, len(part)):], ",:"); i >= 0 {
			part = part[:i+1]
		}
		return &BindError{Input: s, Part: part, Msg: "Apptainer's bind syntax would read this otherwise than written: it drops '^' and empty parts, and trims spaces around parts"}
	}
	for i, p := range paths {
		if i > 0 && !cut(&rest, ",") || !cut(&rest, p.Source) {
			return fail()
		}
		if !cut(&rest, ":") {
			if p.Destination != p.Source || len(p.Options) > 0 {
				return fail()
			}
			continue
		}
		if !cut(&rest, p.Destination) {
			return fail()
		}
		if !cut(&rest, ":") {
			if len(p.Options) > 0 {
				return fail()
			}
			continue
		}
		for n := 0; ; n++ {
			if n > 0 && !(strings.HasPrefix(rest, ",") && isOptionOf(nextPart(rest[1:]), p)) {
				break
			}
			if n > 0 {
				rest = rest[1:]
			}
			tok := nextPart(rest)
			if !isOptionOf(tok, p) {
				return fail()
			}
			rest = rest[len(tok):]
		}
	}
	if rest != "" {
		return fail()
	}
	return nil
}

// cut removes prefix from *s and reports whether it was there.
func cut(s *string, prefix string) bool {
	r, ok := strings.CutPrefix(*s, prefix)
	if ok {
		*s = r
	}
	return ok
}

// nextPart is s up to its first ',' or ':'.
func nextPart(s string) string {
	if i := strings.IndexAny(s, ",:"); i >= 0 {
		return s[:i]
	}
	return s
}

// isOptionOf reports whether tok, as written, is one of p's options.
func isOptionOf(tok string, p bind.Path) bool {
	name, value, _ := strings.Cut(tok, "=")
	o := p.Options[name]
	return o != nil && o.Value == value
}

// describe says what the parser made of a string meant as one path.
func describe(paths []bind.Path, err error) string {
	switch {
	case err != nil:
		return "an error (" + strings.TrimPrefix(err.Error(), "while getting bind path: ") + ")"
	case len(paths) == 0:
		return "nothing"
	case len(paths) > 1:
		q := make([]string, len(paths))
		for i, p := range paths {
			q[i] = quote(p.Source)
		}
		return fmt.Sprintf("%d binds (%s)", len(paths), strings.Join(q, ", "))
	case paths[0].Source != paths[0].Destination:
		return quote(paths[0].Source) + " bound at " + quote(paths[0].Destination)
	case len(paths[0].Options) > 0:
		return quote(paths[0].Source) + " with options"
	}
	return quote(paths[0].Source)
}

// quote quotes a value for an error message, cut short when it is long.
func quote(s string) string {
	const max = 100
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:max]) + fmt.Sprintf("... (%d bytes)", len(s))
}
