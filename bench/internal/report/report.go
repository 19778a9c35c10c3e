// Package report holds the benchmark figures and writes them as a
// Markdown file with the peers' ratios, the targets and the figures of
// the previous run beside them.
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

// Row is one measure across the columns of its section.
type Row struct {
	Key    string // stable id; a cell's data key is Key + "." + column
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

// Target is one of the goals, judged on this run's figures.
type Target struct {
	Key    string // data key of Value, for the previous run's figure
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
	// Findings are Markdown blocks: profiles, causes, before/after.
	Findings []string
}

// Data flattens every figure to its key, for the next run to compare.
func (r *Results) Data() map[string]float64 {
	out := map[string]float64{}
	for _, s := range r.Sections {
		for _, row := range s.Rows {
			for c, v := range row.Values {
				out[row.Key+"."+c] = v
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
