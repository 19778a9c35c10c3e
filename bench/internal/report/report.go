// Package report holds the benchmark figures and writes them: latest.md
// (tables with the peers' ratios, the targets and the previous run's
// figures beside them) and a row of history.csv per run.
package report

import (
	"time"
)

// Kind says how a row compares its first column with the others.
type Kind int

const (
	Rate    Kind = iota // higher is better; compared as a ratio
	Latency             // lower is better; compared as a difference
	Plain               // no comparison
)

// Key names a row of figures; a figure's data key is Key + "." + column.
type Key string

// Cell is the data key of the figure of row k in column col.
func (k Key) Cell(col string) string { return string(k) + "." + col }

// Row is one measure across the columns of its section.
type Row struct {
	Key    Key
	Label  string
	Unit   string // "req/s", "us", "MB/s", "MiB", "s", "ms", "RPC/min", "count"
	Kind   Kind
	Values map[string]float64 // by column; absent = not measured
}

// Section is one table: its first column is the bridge (or the figure
// that targets speak of), the others are what it is compared with.
type Section struct {
	Title   string
	Columns []string
	Compare bool // add "first ÷ other" (or "first − other") columns
	Rows    []Row
	Notes   []string
}

// Target is one goal, judged on this run's figures.
type Target struct {
	Key    string // data key of Value, for the previous run's figure and history.csv
	Name   string
	Figure string // what was measured, in words
	Value  float64
	Want   string
	Met    bool
	Known  bool // false when the figures it needs were not measured
}

// Results is one run.
type Results struct {
	Started  time.Time
	Duration time.Duration
	Smoke    bool
	Sections []Section
	Targets  []Target
	Notes    []string
	Findings []string // lines computed from the figures
	Profiles []string // the profiles' files (in profiles/, beside the results)
}

// Data flattens every figure to its key, for the next run to compare.
func (r *Results) Data() map[string]float64 {
	out := map[string]float64{}
	for _, s := range r.Sections {
		for _, row := range s.Rows {
			for c, v := range row.Values {
				out[row.Key.Cell(c)] = v
			}
		}
	}
	for _, t := range r.Targets {
		if t.Known {
			out[t.Key] = t.Value
		}
	}
	return out
}
