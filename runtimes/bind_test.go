package runtimes

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseBinds(t *testing.T) {
	good := []struct {
		in   string
		want []Bind
	}{
		{"/a", []Bind{{"/a", "/a", false}}},
		{"/a:/b", []Bind{{"/a", "/b", false}}},
		{"/a:/b:ro", []Bind{{"/a", "/b", true}}},
		{"/a:/b:rw", []Bind{{"/a", "/b", false}}},
		{"/a:/b:ro,ro", []Bind{{"/a", "/b", true}}},
		{"/a,/b", []Bind{{"/a", "/a", false}, {"/b", "/b", false}}},
		{"/a:/b:ro,/c:/d", []Bind{{"/a", "/b", true}, {"/c", "/d", false}}},
		{"/a:/b:ro,/c", []Bind{{"/a", "/b", true}, {"/c", "/c", false}}},
		{"/a:/b,/c:/d:ro", []Bind{{"/a", "/b", false}, {"/c", "/d", true}}},
		{"/my data:/d", []Bind{{"/my data", "/d", false}}},
		{"/data/-x $(y):/d", []Bind{{"/data/-x $(y)", "/d", false}}},
		{"rel:/d", []Bind{{"rel", "/d", false}}}, // absolute paths are the caller's rule
	}
	for _, c := range good {
		got, err := ParseBinds(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseBinds(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	bad := []struct {
		in, part, msg string
	}{
		{"", "", "no bind given"},
		{",", "", "no bind given"},
		{"/a,", ",", "otherwise than written"},
		{",/a", "", "otherwise than written"},
		{"/a,,/b", ",/b", "otherwise than written"},
		{":/b", "", "otherwise than written"},
		{"/a::ro", ":ro", "otherwise than written"},
		{"/x/a^/b:/c", "^/b", "drops '^'"},
		{"/a/b^", "^", "drops '^'"},
		{" /a:/b", " /a", "trims spaces"},
		{"/a :/b", "/a ", `reads it as "/a"`},
		{"/a:/b,ro", "/b,ro", `2 binds ("/b", "ro")`},
		{"/a:", "", "empty path after ':'"},
		{"/a:/b:", "", "empty option"},
		{"/a:/b:foo", "foo", "not a bind option"},
		{"/a:/b:ro:x", "x", "fourth part"},
		{"/a:/b:ro,rw", "/a:/b", "both ro and rw"},
		{"/a:/b:ro=x", "ro=x", "takes no value"},
		{"/a:/b:id=2", "id=2", "not supported"},
		{"/a:/b:image-src=/x", "image-src=/x", "not supported"},
		{"/a:/b:ro,id=3", "id=3", "not supported"},
	}
	for _, c := range bad {
		got, err := ParseBinds(c.in)
		var be *BindError
		if !errors.As(err, &be) {
			t.Errorf("ParseBinds(%q) = %v, %v; want a *BindError", c.in, got, err)
			continue
		}
		if be.Input != c.in || (be.Part != c.part && !(c.part == "" && be.Part == c.in)) || !strings.Contains(be.Msg, c.msg) {
			t.Errorf("ParseBinds(%q): part %q msg %q; want part %q and %q", c.in, be.Part, be.Msg, c.part, c.msg)
		}
	}
}

// TestParseBindsRoundTrip: what String renders, ParseBinds reads back.
func TestParseBindsRoundTrip(t *testing.T) {
	for _, b := range []Bind{{"/a", "/b", true}, {"/a b", "/c", false}, {"/x", "/x", false}} {
		got, err := ParseBinds(b.String())
		if err != nil || !slices.Equal(got, []Bind{b}) {
			t.Errorf("%v: read back %v, %v", b, got, err)
		}
	}
}

func TestCheckPath(t *testing.T) {
	for _, p := range []string{"/a", "/a b", "/a/-b", "rel", "/"} {
		if err := CheckPath(p); err != nil {
			t.Errorf("CheckPath(%q): %v", p, err)
		}
	}
	for p, want := range map[string]string{
		"":         "is empty",
		"/a,b":     `2 binds ("/a", "b")`,
		"/a:b":     `"/a" bound at "b"`,
		"/a^b":     "2 binds",
		" /a":      `reads it as "/a"`,
		"/a ":      `reads it as "/a"`,
		"/a:/b:ro": `bound at "/b"`,
		"/a:/b:x":  "an error",
	} {
		err := CheckPath(p)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), `"`+p+`"`) {
			t.Errorf("CheckPath(%q) = %v, want %q naming the path", p, err, want)
		}
	}
}
