package slurm

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestExpandHostlist(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"gpu1", []string{"gpu1"}},
		{"gpu[1-2,5],cpu1", []string{"gpu1", "gpu2", "gpu5", "cpu1"}},
		{"a[01-03,07],b5", []string{"a01", "a02", "a03", "a07", "b5"}},
		{"rack[1-2]-n[01-02]", []string{"rack1-n01", "rack1-n02", "rack2-n01", "rack2-n02"}},
		{"r1-gpu01-ib,r1-gpu02-ib", []string{"r1-gpu01-ib", "r1-gpu02-ib"}},
		{"r1-gpu[01-02]", []string{"r1-gpu01", "r1-gpu02"}},
		{"n[8-010]", []string{"n8", "n9", "n10"}},
		{"a[1-2]b[1-2]c[1-2]", []string{"a1b1c1", "a1b1c2", "a2b1c1", "a2b1c2", "a1b2c1", "a1b2c2", "a2b2c1", "a2b2c2"}},
		{"a1\tb2 c3", []string{"a1", "b2", "c3"}},
	}
	for _, c := range cases {
		got, err := ExpandHostlist(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestExpandHostlistRefuses(t *testing.T) {
	cases := []struct{ in, msg string }{
		{"gpu[1-2]-ib", `not a Slurm node list "gpu[1-2]-ib": text "-ib" after the last bracket group (Slurm requires a group at the end)`},
		{"a1,r1-gpu[01-02]-ib", `not a Slurm node list "a1,r1-gpu[01-02]-ib": in "r1-gpu[01-02]-ib": text "-ib" after the last bracket group`},
		{"a[3-1]", `range "3-1" runs backwards`},
		{"a[1-2", `a "[" without "]"`},
		{"a]b", `a "]" without "["`},
		{"a[[1]]", "a bracket inside brackets"},
		{"a[1, 2]", `' ' inside brackets`},
		{"a[]", "a number is missing"},
		{"a[1-]", "a number is missing"},
		{"a[x]", `'x' inside brackets`},
		{"a\nb", `character '\n' in a node name`},
		{"nöde", "byte 0xc3 in a node name"},
		{"a[12345678901234567890]", "more than 19 digits"},
		{"a1234567890[1234567890]", "a number of more than 19 digits in a12345678901234567890"},
		{strings.Repeat("n", 1001), "longer than 1000 bytes"},
	}
	for _, c := range cases {
		got, err := ExpandHostlist(c.in)
		if !errors.Is(err, ErrBadHostlist) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: got %q, %v; want an error saying %s", c.in, got, err, c.msg)
		}
	}
}

func TestExpandHostlistBounded(t *testing.T) {
	if got, err := ExpandHostlist("n[0-65535]"); err != nil || len(got) != MaxHostlistNodes || got[65535] != "n65535" {
		t.Fatalf("the largest list: %d names, %v", len(got), err)
	}
	for _, in := range []string{"n[0-65536]", "n[0-999999999999999999]", "a[0-1]b[0-65535]", "n[0-65535],x", "a[0-300]b[0-300]c[0-300]"} {
		if got, err := ExpandHostlist(in); !errors.Is(err, ErrHostlistTooLarge) {
			t.Errorf("%q: %d names, %v; want ErrHostlistTooLarge", in, len(got), err)
		}
	}
}

// FuzzExpandHostlist checks properties of any input and, where scontrol is
// installed, that a list read is read exactly as Slurm reads it (a list
// Slurm refuses gives no names there, so it must be refused here too).
func FuzzExpandHostlist(f *testing.F) {
	for _, s := range []string{"a[01-03,07],b5", "rack[1-2]-n[01-02]", "gpu[1-2]-ib", "x[1-2]y[3,5]z[08-10]", "a[1-2],,b c", "[1-2]x[3]", "a]b"} {
		f.Add(s)
	}
	sc := findScontrol(f)
	f.Fuzz(func(t *testing.T, s string) {
		names, err := ExpandHostlist(s)
		if err != nil {
			if !errors.Is(err, ErrBadHostlist) && !errors.Is(err, ErrHostlistTooLarge) {
				t.Fatalf("%q: error %v wraps neither sentinel", s, err)
			}
		} else {
			if len(names) > MaxHostlistNodes {
				t.Fatalf("%q: %d names", s, len(names))
			}
			for _, n := range names {
				if n == "" || strings.ContainsAny(n, "[], \t") {
					t.Fatalf("%q: name %q", s, n)
				}
			}
			// Names are lists of themselves.
			if again, err := ExpandHostlist(strings.Join(names, ",")); err != nil || !slices.Equal(again, names) {
				t.Fatalf("%q: its names %q read back as %q, %v", s, names, again, err)
			}
		}
		// A list refused may be one Slurm reads oddly (stricterThanSlurm);
		// a list read must be read as Slurm reads it.
		if sc == nil || err != nil || len(s) > 4000 {
			return
		}
		if slurmNames := sc.hostnames(t, s); !slices.Equal(names, slurmNames) && (len(names) > 0 || len(slurmNames) > 0) {
			t.Fatalf("%q: got %q; scontrol says %q", s, names, slurmNames)
		}
	})
}
