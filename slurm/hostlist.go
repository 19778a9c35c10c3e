package slurm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Node lists ("hostlists") are read by Slurm's own rules, as its
// hostlist_create (src/common/hostlist.c) reads them and
// `scontrol show hostnames` prints them:
//
//   - Items are separated by commas, spaces or tabs outside brackets.
//   - An item is a name, or text and bracket groups, where a bracket group
//     must end the item: "rack[1-2]-n[01-02]" is valid, "gpu[1-2]-ib" is
//     not (slurm.conf(5): "one of them must be at the end of the name").
//     Slurm itself prints node lists with at most one group per item, at
//     its end; "r1-gpu01-ib,r1-gpu02-ib" stays a comma list.
//   - A group holds comma-separated numbers and lo-hi ranges; a number is
//     printed zero-padded to the width lo is written with ("[08-10]" gives
//     08 09 10, "[8-010]" gives 8 9 10).
//   - With several groups, the last group varies fastest, then the
//     groups before it from the first on: "x[1-2]y[1-2]z[1-2]" gives
//     x1y1z1 x1y1z2 x2y1z1 x2y1z2 x1y2z1 ...
//   - Duplicates stay, in order.
//
// Slurm accepts a few odd forms this parser refuses: a sign or spaces in
// a range ("[+1-2]", "[1, 2]"), an open range ("[1-]"), a "]" outside a
// group, control and non-ASCII characters, numbers of more than 19
// digits, and items longer than 1000 bytes. Slurm never prints them; a
// list is either read exactly as Slurm reads it or refused.
// hostlist_corpus_test.go checks this against scontrol.

var (
	// ErrBadHostlist is wrapped by the error for text that is not a node
	// list as Slurm reads it.
	ErrBadHostlist = errors.New("not a Slurm node list")
	// ErrHostlistTooLarge is wrapped by the error for a list naming more
	// than MaxHostlistNodes nodes.
	ErrHostlistTooLarge = errors.New("node list names too many nodes")
)

// MaxHostlistNodes bounds how many names ExpandHostlist returns, as
// Slurm bounds one range (64Ki names), so text cannot make it allocate
// without limit.
const MaxHostlistNodes = 1 << 16

const (
	maxItemLen = 1000 // Slurm copies an item into a 1024-byte buffer
	maxDigits  = 19   // below 10^19: fits Slurm's unsigned long, and ours
)

// ExpandHostlist expands a Slurm node list such as "gpu[1-3,5],cpu1" or
// "rack[1-2]-n[01-02]" into node names, in Slurm's order. An empty list
// gives none. The error wraps ErrBadHostlist or ErrHostlistTooLarge.
func ExpandHostlist(s string) ([]string, error) {
	items, err := splitHostlist(s)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBadHostlist, s, err)
	}
	var out []string
	for _, it := range items {
		names, err := expandItem(it, MaxHostlistNodes-len(out))
		if errors.Is(err, ErrHostlistTooLarge) {
			return nil, fmt.Errorf("%w: %q has more than %d", ErrHostlistTooLarge, s, MaxHostlistNodes)
		}
		if err != nil && it == s {
			return nil, fmt.Errorf("%w %q: %w", ErrBadHostlist, s, err)
		}
		if err != nil {
			return nil, fmt.Errorf("%w %q: in %q: %w", ErrBadHostlist, s, it, err)
		}
		out = append(out, names...)
	}
	return out, nil
}

// splitHostlist splits s into items at separators outside brackets and
// checks that every byte may stand where it is.
func splitHostlist(s string) ([]string, error) {
	var items []string
	start, open := -1, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case !open && (c == ',' || c == ' ' || c == '\t'):
			if start >= 0 {
				items = append(items, s[start:i])
				start = -1
			}
			continue
		case c == '[':
			if open {
				return nil, errors.New("a bracket inside brackets")
			}
			open = true
		case c == ']':
			if !open {
				return nil, errors.New(`a "]" without "["`)
			}
			open = false
		case open:
			if (c < '0' || c > '9') && c != '-' && c != ',' {
				return nil, fmt.Errorf("%q inside brackets (only digits, \"-\" and \",\")", c)
			}
		case c <= ' ' || c == 0x7f:
			return nil, fmt.Errorf("character %q in a node name", c)
		case c > 0x7f:
			return nil, fmt.Errorf("byte %#x in a node name (only ASCII)", c)
		}
		if start < 0 {
			start = i
		}
	}
	if open {
		return nil, errors.New(`a "[" without "]"`)
	}
	if start >= 0 {
		items = append(items, s[start:])
	}
	return items, nil
}

// group is one bracket group: the text before it and its numbers, each
// already printed at its width.
type group struct {
	text string
	nums []string
}

// expandItem expands one item (no separators outside its brackets) into
// at most limit names.
func expandItem(item string, limit int) ([]string, error) {
	if limit < 1 {
		return nil, ErrHostlistTooLarge
	}
	if len(item) > maxItemLen {
		return nil, fmt.Errorf("longer than %d bytes", maxItemLen)
	}
	var groups []group
	rest := item
	for {
		open := strings.IndexByte(rest, '[')
		if open < 0 {
			break
		}
		end := strings.IndexByte(rest, ']') // after open: splitHostlist checked the pairs
		nums, err := expandRanges(rest[open+1:end], limit)
		if err != nil {
			return nil, err
		}
		groups = append(groups, group{text: rest[:open], nums: nums})
		rest = rest[end+1:]
	}
	if len(groups) == 0 {
		return []string{item}, checkDigitRuns(item)
	}
	if rest != "" {
		return nil, fmt.Errorf("text %q after the last bracket group (Slurm requires a group at the end)", rest)
	}
	total := 1
	for _, g := range groups {
		if len(g.nums) > limit/total {
			return nil, ErrHostlistTooLarge
		}
		total *= len(g.nums)
	}
	names := product(groups, total)
	for _, n := range names {
		if err := checkDigitRuns(n); err != nil {
			return nil, fmt.Errorf("%w in %s", err, n)
		}
	}
	return names, nil
}

// product lists every combination of the groups' numbers in Slurm's
// order: the last group fastest, then the first, the second, and so on.
func product(groups []group, total int) []string {
	n := len(groups)
	// order[k] is the group at loop depth k, outermost first.
	order := make([]int, 0, n)
	for g := n - 2; g >= 0; g-- {
		order = append(order, g)
	}
	order = append(order, n-1)
	idx := make([]int, n)
	out := make([]string, 0, total)
	var b strings.Builder
	for {
		b.Reset()
		for g := range groups {
			b.WriteString(groups[g].text)
			b.WriteString(groups[g].nums[idx[g]])
		}
		out = append(out, b.String())
		k := n - 1
		for ; k >= 0; k-- {
			g := order[k]
			if idx[g]++; idx[g] < len(groups[g].nums) {
				break
			}
			idx[g] = 0
		}
		if k < 0 {
			return out
		}
	}
}

// expandRanges reads a group's body ("1-3,07") into its numbers, at most
// limit of them.
func expandRanges(body string, limit int) ([]string, error) {
	var out []string
	for _, r := range strings.Split(body, ",") {
		loS, hiS, isRange := strings.Cut(r, "-")
		if !isRange {
			hiS = loS
		}
		lo, err := parseNum(loS)
		if err != nil {
			return nil, fmt.Errorf("range %q: %w", r, err)
		}
		hi, err := parseNum(hiS)
		if err != nil {
			return nil, fmt.Errorf("range %q: %w", r, err)
		}
		if lo > hi {
			return nil, fmt.Errorf("range %q runs backwards", r)
		}
		if hi-lo >= uint64(limit-len(out)) {
			return nil, ErrHostlistTooLarge
		}
		for v := lo; v <= hi; v++ {
			out = append(out, pad(v, len(loS)))
		}
	}
	return out, nil
}

func parseNum(s string) (uint64, error) {
	if s == "" {
		return 0, errors.New("a number is missing")
	}
	if len(s) > maxDigits {
		return 0, fmt.Errorf("more than %d digits", maxDigits)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a number", s)
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

// pad prints v with at least width digits, zero-padded.
func pad(v uint64, width int) string {
	s := strconv.FormatUint(v, 10)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// checkDigitRuns refuses names with numbers Slurm cannot hold: it reads a
// name's trailing digits as an unsigned long. Every name read is thus a
// list of itself.
func checkDigitRuns(item string) error {
	run := 0
	for i := 0; i < len(item); i++ {
		if item[i] >= '0' && item[i] <= '9' {
			if run++; run > maxDigits {
				return fmt.Errorf("a number of more than %d digits", maxDigits)
			}
		} else {
			run = 0
		}
	}
	return nil
}
