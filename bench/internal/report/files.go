package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Previous finds the newest results file in dir other than skip and
// returns its figures and its name; nil when there is none.
func Previous(dir, skip string) (map[string]float64, string) {
	names, _ := filepath.Glob(filepath.Join(dir, "20*.md"))
	sort.Strings(names)
	for i := len(names) - 1; i >= 0; i-- {
		if filepath.Base(names[i]) == skip {
			continue
		}
		data, err := os.ReadFile(names[i])
		if err != nil {
			continue
		}
		if m := ParseData(string(data)); m != nil {
			return m, filepath.Base(names[i])
		}
	}
	return nil, ""
}

// ParseData reads the figures a results file carries; nil if none.
func ParseData(md string) map[string]float64 {
	i := strings.LastIndex(md, dataMarker)
	if i < 0 {
		return nil
	}
	rest := md[i+len(dataMarker):]
	j := strings.Index(rest, " -->")
	if j < 0 {
		return nil
	}
	var m map[string]float64
	if json.Unmarshal([]byte(rest[:j]), &m) != nil {
		return nil
	}
	return m
}

// Write saves the results as dir/<name> and dir/latest.md.
func Write(dir, name, md string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(md), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "latest.md"), []byte(md), 0o644)
}
