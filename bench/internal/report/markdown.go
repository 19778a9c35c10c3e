package report

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

const dataMarker = "<!-- bench-data "

// Markdown renders r; prev (nil for none) supplies the previous column,
// prevName names the run it came from.
func Markdown(r *Results, prev map[string]float64, prevName string) string {
	var b strings.Builder
	kind := "full run"
	if r.Smoke {
		kind = "smoke run (short, only checks the suite works; figures are not comparable)"
	}
	fmt.Fprintf(&b, "# Benchmarks %s\n\n", r.Started.UTC().Format("2006-01-02 15:04:05 UTC"))
	fmt.Fprintf(&b, "%s, %s. Previous: %s.\n\n", kind, r.Duration.Round(1e9), orNone(prevName))
	writeTargets(&b, r.Targets, prev)
	for _, s := range r.Sections {
		writeSection(&b, s, prev)
	}
	if len(r.Notes) > 0 {
		b.WriteString("## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	if len(r.Findings) > 0 {
		b.WriteString("## Findings\n\n")
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "- %s\n", f)
		}
		b.WriteString("\n")
	}
	if len(r.Profiles) > 0 {
		fmt.Fprintf(&b, "Profiles, in profiles/ (`go tool pprof -top bin FILE`): %s.\n\n", strings.Join(r.Profiles, ", "))
	}
	data, _ := json.Marshal(r.Data())
	fmt.Fprintf(&b, "%s%s -->\n", dataMarker, data)
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func writeTargets(b *strings.Builder, ts []Target, prev map[string]float64) {
	if len(ts) == 0 {
		return
	}
	met, known := 0, 0
	for _, t := range ts {
		if t.Known {
			known++
			if t.Met {
				met++
			}
		}
	}
	fmt.Fprintf(b, "## Targets: %d of %d met\n\n", met, known)
	b.WriteString("| target | measured | figure | wanted | met | previous |\n|---|---|---|---|---|---|\n")
	for _, t := range ts {
		fig, verdict := "not measured", "—"
		if t.Known {
			fig = trim(t.Value)
			verdict = "not met"
			if t.Met {
				verdict = "**met**"
			}
		}
		p := "—"
		if v, ok := prev[t.Key]; ok {
			p = trim(v)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", t.Name, t.Figure, fig, t.Want, verdict, p)
	}
	b.WriteString("\n")
}

func writeSection(b *strings.Builder, s Section, prev map[string]float64) {
	fmt.Fprintf(b, "## %s\n\n", s.Title)
	head := append([]string{"measure"}, s.Columns...)
	if s.Compare {
		for _, c := range s.Columns[1:] {
			head = append(head, s.Columns[0]+" vs "+c)
		}
	}
	head = append(head, "previous ("+s.Columns[0]+")")
	b.WriteString("| " + strings.Join(head, " | ") + " |\n")
	b.WriteString(strings.Repeat("|---", len(head)) + "|\n")
	for _, row := range s.Rows {
		cells := []string{row.Label}
		for _, c := range s.Columns {
			cells = append(cells, cell(row, c))
		}
		if s.Compare {
			for _, c := range s.Columns[1:] {
				cells = append(cells, compare(row, s.Columns[0], c))
			}
		}
		p := "—"
		if v, ok := prev[row.Key.Cell(s.Columns[0])]; ok {
			p = Format(v, row.Unit)
		}
		cells = append(cells, p)
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	b.WriteString("\n")
	for _, n := range s.Notes {
		fmt.Fprintf(b, "%s\n\n", n)
	}
}

func cell(row Row, col string) string {
	v, ok := row.Values[col]
	if !ok {
		return "—"
	}
	return Format(v, row.Unit)
}

func compare(row Row, first, other string) string {
	a, ok1 := row.Values[first]
	o, ok2 := row.Values[other]
	if !ok1 || !ok2 {
		return "—"
	}
	switch row.Kind {
	case Rate:
		if o == 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f×", a/o)
	case Latency:
		d := a - o
		sign := "+"
		if d < 0 {
			sign, d = "−", -d
		}
		return sign + Format(d, row.Unit)
	}
	return ""
}

// Format prints a figure in its unit, rounded for reading.
func Format(v float64, unit string) string {
	switch unit {
	case "us":
		if math.Abs(v) >= 1000 {
			return fmt.Sprintf("%.2f ms", v/1000)
		}
		return fmt.Sprintf("%.0f µs", v)
	case "req/s", "RPC/min", "count":
		return commas(v)
	case "MB/s", "MiB", "ms":
		return fmt.Sprintf("%.1f %s", v, unit)
	case "s":
		return fmt.Sprintf("%.2f s", v)
	}
	return trim(v) + " " + unit
}

func commas(v float64) string {
	s := fmt.Sprintf("%.0f", math.Round(v))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func trim(v float64) string {
	if math.Abs(v) >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}
