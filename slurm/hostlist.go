package slurm

import (
	"fmt"
	"strconv"
	"strings"
)

// ExpandHostlist expands a Slurm hostlist such as "gpu[1-3,5],cpu1" into
// node names. Malformed ranges are kept as written.
func ExpandHostlist(s string) []string {
	var out []string
	for _, part := range splitTop(s) {
		open := strings.IndexByte(part, '[')
		if open < 0 || !strings.HasSuffix(part, "]") {
			out = append(out, part)
			continue
		}
		prefix, body := part[:open], part[open+1:len(part)-1]
		for _, r := range strings.Split(body, ",") {
			lo, hi, isRange := strings.Cut(r, "-")
			a, errA := strconv.Atoi(lo)
			b, errB := strconv.Atoi(hi)
			if !isRange {
				out = append(out, prefix+r)
				continue
			}
			if errA != nil || errB != nil || b < a {
				out = append(out, prefix+r)
				continue
			}
			for i := a; i <= b; i++ {
				out = append(out, fmt.Sprintf("%s%0*d", prefix, len(lo), i))
			}
		}
	}
	return out
}

// splitTop splits on commas outside brackets.
func splitTop(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}
