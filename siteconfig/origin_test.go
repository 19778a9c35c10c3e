package siteconfig

import (
	"strings"
	"testing"
)

func TestNotebookOrigin(t *testing.T) {
	for _, c := range []struct{ ext, tmpl, err string }{
		{"https://nb.example.org", "https://{id}.nb.example.org", ""},
		{"http://127.0.0.1:8080", "http://{id}.nb.localhost:8080", ""},
		{"https://nb.example.org", "https://nb.example.org", "must hold {id} once"},
		{"https://nb.example.org", "https://{id}{id}.x.org", "notebook_origin"},
		{"https://nb.example.org", "https://x{id}.org/path", "origin only"},
		{"https://nb.example.org", "ftp://{id}.x.org", "not an http(s) URL"},
		{"https://nb.example.org", "http://{id}.x.org", "scheme http differs"},
		{"https://a.nb.example.org", "https://{id}.nb.example.org", "matches external_url's host"},
	} {
		cfg := &Config{ExternalURL: c.ext, NotebookOrigin: c.tmpl}
		err := cfg.checkNotebookOrigin()
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s with %s: %v, want %q", c.tmpl, c.ext, err, c.err)
		}
	}
	cfg := &Config{ExternalURL: "https://nb.example.org", NotebookOrigin: "https://{id}.nb.example.org"}
	if err := cfg.checkNotebookOrigin(); err != nil {
		t.Fatal(err)
	}
	o, _ := cfg.NotebookOrigins()
	for host, want := range map[string]string{
		"5b2a9ea4-0c1d-4e2f-8a9b-0123456789ab.nb.example.org": "5b2a9ea4-0c1d-4e2f-8a9b-0123456789ab",
		"ABC.NB.EXAMPLE.ORG":        "abc",
		"a.b.nb.example.org":        "",
		"nb.example.org":            "",
		".nb.example.org":           "",
		"x.nb.example.org.evil.com": "",
	} {
		if id, ok := o.ID(host); id != want || ok != (want != "") {
			t.Errorf("ID(%s) = %q %v, want %q", host, id, ok, want)
		}
	}
	if got := o.Origin("abc"); got != "https://abc.nb.example.org" {
		t.Errorf("Origin = %s", got)
	}
}
