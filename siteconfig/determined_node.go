package siteconfig

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/det-slurm/bridge/taskconfig"
)

// This file reads a Determined master.yaml through yaml.v3's node tree, so
// that every error names the field's dotted path and its line.

// field is one key of a master.yaml mapping: its dotted path, the line of
// its key and its value.
type field struct {
	path string
	line int
	v    *yaml.Node
}

// handlers read the keys of one mapping, by key name.
type handlers map[string]func(f field) error

// errAt is an error about the field at line; Load turns "line N:" into
// "FILE:N:".
func errAt(line int, format string, a ...any) error {
	return fmt.Errorf("line %d: "+format, append([]any{line}, a...)...)
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// isNull is true for a missing value or an explicit null.
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// walk calls the handler of each key of the mapping at f in file order. A
// key no handler knows is an error naming it, its line and the nearest
// known key; other, when not nil, is asked first for keys handlers lacks
// (it returns nil for a key it does not know either).
func walk(f field, hs handlers, other func(key string) func(field) error) error {
	n := deref(f.v)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return errAt(n.Line, "%s: want a mapping of fields", f.path)
	}
	prefix := ""
	if f.path != "" {
		prefix = f.path + "."
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		sub := field{path: prefix + k.Value, line: k.Line, v: v}
		h, ok := hs[k.Value]
		if !ok && other != nil {
			h = other(k.Value)
			ok = h != nil
		}
		if !ok {
			where := "at the top level"
			if f.path != "" {
				where = "in " + f.path
			}
			msg := fmt.Sprintf("field %s not found %s of a Determined master.yaml", k.Value, where)
			if s := nearest(k.Value, hs); s != "" {
				msg += "; did you mean " + s + "?"
			}
			return errAt(k.Line, "%s", msg)
		}
		if err := h(sub); err != nil {
			return err
		}
	}
	return nil
}

// str reads a scalar as a string ("" for null).
func str(f field) (string, error) {
	n := deref(f.v)
	if isNull(n) {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", errAt(n.Line, "%s: want a single value", f.path)
	}
	return n.Value, nil
}

// integer reads a whole number (0 for null).
func integer(f field) (int, error) {
	n := deref(f.v)
	if isNull(n) {
		return 0, nil
	}
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
		return 0, errAt(n.Line, "%s: %q is not a whole number", f.path, n.Value)
	}
	return v, nil
}

// boolean reads true or false; null gives def.
func boolean(f field, def bool) (bool, error) {
	n := deref(f.v)
	if isNull(n) {
		return def, nil
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		return false, errAt(n.Line, "%s: %q is not true or false", f.path, n.Value)
	}
	return b, nil
}

// strList reads a list of single values (nil for null).
func strList(f field) ([]string, error) {
	n := deref(f.v)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n.Line, "%s: want a list", f.path)
	}
	out := make([]string, 0, len(n.Content))
	for i, e := range n.Content {
		s, err := str(field{path: fmt.Sprintf("%s[%d]", f.path, i), line: e.Line, v: e})
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// items returns the entries of a list, each as a field named path[i].
func items(f field) ([]field, error) {
	n := deref(f.v)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n.Line, "%s: want a list", f.path)
	}
	out := make([]field, len(n.Content))
	for i, e := range n.Content {
		out[i] = field{path: fmt.Sprintf("%s[%d]", f.path, i), line: e.Line, v: e}
	}
	return out, nil
}

// nearest returns the known key closest to k, if it is close enough to be
// a misspelling of it.
func nearest(k string, hs handlers) string {
	best, bestD := "", 4
	for name := range hs {
		if d := taskconfig.EditDistance(k, name); d < bestD || (d == bestD && name < best) {
			best, bestD = name, d
		}
	}
	return best
}

// hasKey reports whether the mapping n has the key.
func hasKey(n *yaml.Node, key string) bool {
	return child(n, key) != nil
}

// child returns the value of key in the mapping n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// joinList shows a list of values in a mapping line.
func joinList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	return strings.Join(v, " ")
}
