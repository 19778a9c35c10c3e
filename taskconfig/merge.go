package taskconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Merge returns base with over laid on top: mappings merge key by key,
// bind_mounts add up, environment_variables merge by name (over wins), and
// anything else in over replaces what base has. Neither input is changed.
func Merge(base, over map[string]any) map[string]any {
	return merge("", base, over)
}

func merge(path string, base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		p := path + k
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		bl, blok := out[k].([]any)
		ol, olok := v.([]any)
		switch {
		case bok && ook:
			out[k] = merge(p+".", bm, om)
		case blok && olok && p == "bind_mounts":
			out[k] = append(append([]any{}, bl...), ol...)
		case blok && olok && p == "environment.environment_variables":
			out[k] = mergeEnv(bl, ol)
		default:
			out[k] = v
		}
	}
	return out
}

// mergeEnv merges NAME=VALUE lists; a name in over replaces it in base.
func mergeEnv(base, over []any) []any {
	names := map[string]bool{}
	for _, e := range over {
		if s, ok := e.(string); ok {
			n, _, _ := strings.Cut(s, "=")
			names[n] = true
		}
	}
	var out []any
	for _, e := range base {
		if s, ok := e.(string); ok {
			if n, _, _ := strings.Cut(s, "="); names[n] {
				continue
			}
		}
		out = append(out, e)
	}
	return append(out, over...)
}

// ParseYAML parses a config document into a generic map.
func ParseYAML(data []byte) (map[string]any, error) {
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return normalize(m).(map[string]any), nil
}

// ParseOverride turns one "--config a.b.c=value" into a nested map. The
// value is read as YAML, so numbers, booleans and lists keep their type.
func ParseOverride(kv string) (map[string]any, error) {
	key, val, ok := strings.Cut(kv, "=")
	if !ok || key == "" {
		return nil, fmt.Errorf("--config %q: expected key=value, e.g. resources.slots=2", kv)
	}
	var v any
	if err := yaml.Unmarshal([]byte(val), &v); err != nil {
		return nil, fmt.Errorf("--config %s: value %q is not valid YAML: %w", key, val, err)
	}
	if v == nil && val != "null" && val != "~" {
		v = val
	}
	parts := strings.Split(key, ".")
	m := map[string]any{parts[len(parts)-1]: normalize(v)}
	for i := len(parts) - 2; i >= 0; i-- {
		m = map[string]any{parts[i]: m}
	}
	return m, nil
}

// normalize turns map[any]any and friends into map[string]any so maps from
// YAML and JSON merge alike.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
		return t
	}
	return v
}

// Decode checks m strictly against the schema (an unknown field is an
// error naming its path and the closest known name) and decodes it.
func Decode(m map[string]any) (*Config, error) {
	if err := checkFields("", m, reflect.TypeOf(Config{})); err != nil {
		return nil, err
	}
	data, err := yaml.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return &c, nil
}

func checkFields(prefix string, v any, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			if t == reflect.TypeOf(Image{}) {
				if _, isStr := v.(string); isStr {
					return nil
				}
			}
			if v == nil {
				return nil
			}
			return &FieldError{Path: trimDot(prefix), Msg: fmt.Sprintf("must be a mapping, not %v", v)}
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			fields[name] = t.Field(i).Type
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, known := fields[k]
			if !known {
				msg := "unknown field"
				if s := closest(k, fields); s != "" {
					msg += "; did you mean " + prefix + s + "?"
				}
				return &FieldError{Path: prefix + k, Msg: msg}
			}
			if err := checkFields(prefix+k+".", m[k], ft); err != nil {
				return err
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		// YAML's decoder truncates 2.5 to 2 without a word; a count must be
		// a whole number as given.
		if f, ok := v.(float64); ok && (f != math.Trunc(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<53) {
			return &FieldError{Path: trimDot(prefix), Msg: fmt.Sprintf("must be a whole number, not %v", f)}
		}
	case reflect.Slice:
		items, ok := v.([]any)
		if !ok {
			if v == nil {
				return nil
			}
			return &FieldError{Path: trimDot(prefix), Msg: "must be a list"}
		}
		for i, it := range items {
			if err := checkFields(fmt.Sprintf("%s[%d].", trimDot(prefix), i), it, t.Elem()); err != nil {
				return err
			}
		}
	}
	return nil
}

func trimDot(s string) string { return strings.TrimSuffix(s, ".") }

// closest returns the known name nearest to k, if it is near enough.
func closest(k string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for name := range fields {
		if d := EditDistance(k, name); d < bestD || (d == bestD && name < best && best != "") {
			best, bestD = name, d
		}
	}
	return best
}

// EditDistance is the Levenshtein distance between two names, for
// "did you mean" suggestions.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
