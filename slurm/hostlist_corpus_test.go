package slurm

import (
	"bufio"
	"errors"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
)

var updateHostnames = flag.Bool("update-hostnames", false, "rewrite testdata/hostnames.txt from the installed scontrol")

const corpusPath = "testdata/hostnames.txt"

// stricterThanSlurm are lists Slurm reads (oddly) that ExpandHostlist
// refuses; Slurm never prints them.
var stricterThanSlurm = []string{
	"a[+1-2]",               // Slurm: a01 a02 (the sign counts as a digit's width)
	"a[1, 2]",               // Slurm: a1 a02
	"a[1-]",                 // Slurm: a1
	"a]b",                   // Slurm: a]b
	"a[1-2",                 // Slurm: a]
	"a99999999999999999999", // Slurm: a18446744073709551615
}

type corpusCase struct {
	list  string
	names []string // nil: Slurm refuses the list
}

const corpusHeader = `# What ` + "`scontrol show hostnames LIST`" + ` prints (Slurm 22.05.8), one list a line:
# LIST<TAB>the names, space-separated, or LIST<TAB>!invalid when scontrol says
# "Invalid hostlist". To add a list, add a line (any second column) and run
#   go test ./slurm -run TestHostlistCorpus -update-hostnames
`

func readCorpus(t *testing.T) []corpusCase {
	t.Helper()
	f, err := os.Open(corpusPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []corpusCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		list, names, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s: no tab in %q", corpusPath, line)
		}
		c := corpusCase{list: list}
		if names != "!invalid" {
			c.names = strings.Fields(names)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func writeCorpus(t *testing.T, cases []corpusCase) {
	t.Helper()
	var b strings.Builder
	b.WriteString(corpusHeader)
	for _, c := range cases {
		names := strings.Join(c.names, " ")
		if c.names == nil {
			names = "!invalid"
		}
		b.WriteString(c.list + "\t" + names + "\n")
	}
	if err := os.WriteFile(corpusPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHostlistCorpus checks ExpandHostlist against what Slurm printed for
// every list of the corpus, and, where scontrol is installed (always under
// `make test`), that the installed Slurm still prints that.
func TestHostlistCorpus(t *testing.T) {
	cases := readCorpus(t)
	if sc := findScontrol(t); sc == nil {
		if *updateHostnames {
			t.Fatal("-update-hostnames needs scontrol (apt-get install slurm-client)")
		}
		t.Log("scontrol is not installed: checked against the captured " + corpusPath + " only")
	} else {
		for i, c := range cases {
			got := sc.hostnames(t, c.list)
			if len(got) == 0 {
				got = nil
			}
			if *updateHostnames {
				cases[i].names = got
			} else if !slices.Equal(got, c.names) {
				t.Errorf("scontrol show hostnames %q = %q; %s has %q", c.list, got, corpusPath, c.names)
			}
		}
		if *updateHostnames {
			writeCorpus(t, cases)
		}
	}
	for _, c := range cases {
		got, err := ExpandHostlist(c.list)
		switch {
		case slices.Contains(stricterThanSlurm, c.list):
			if err == nil {
				t.Errorf("%q: got %q, want an error (refused on purpose)", c.list, got)
			}
		case c.names == nil && strings.Trim(c.list, ", \t") != "":
			if !errors.Is(err, ErrBadHostlist) {
				t.Errorf("%q: got %q, %v; Slurm refuses it", c.list, got, err)
			}
		case err != nil:
			t.Errorf("%q: %v; Slurm reads %q", c.list, err, c.names)
		case !slices.Equal(got, c.names):
			t.Errorf("%q: got %q; Slurm reads %q", c.list, got, c.names)
		}
	}
}
