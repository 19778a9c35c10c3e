package report

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Previous reads the figures of the run dir/latest.md holds and its
// title; nil when there is none.
func Previous(dir string) (map[string]float64, string) {
	data, err := os.ReadFile(filepath.Join(dir, "latest.md"))
	if err != nil {
		return nil, ""
	}
	title, _, _ := strings.Cut(string(data), "\n")
	return ParseData(string(data)), strings.TrimPrefix(title, "# Benchmarks ")
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

// Write saves md as dir/latest.md and appends one row to dir/history.csv:
// the header cols first when the file is new; under an older header, the
// row follows the file's columns (values of columns it lacks are left
// out, columns it has that the row lacks stay empty).
func Write(dir, md string, cols []string, row map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "latest.md"), []byte(md), 0o644); err != nil {
		return err
	}
	path := filepath.Join(dir, "history.csv")
	var records [][]string
	if f, err := os.Open(path); err == nil {
		head, err := csv.NewReader(f).Read()
		f.Close()
		if err != nil {
			return err
		}
		cols = head
	} else if errors.Is(err, fs.ErrNotExist) {
		records = append(records, cols)
	} else {
		return err
	}
	rec := make([]string, len(cols))
	for i, c := range cols {
		rec[i] = row[c]
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(append(records, rec)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
