package api

import "testing"

func TestCanonicalMaster(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":              "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/":             "http://127.0.0.1:8080",
		"HTTPS://Notebooks.Example.EDU:443/": "https://notebooks.example.edu",
		"http://login01:80":                  "http://login01",
		"https://hpc.example.com/notebooks/": "https://hpc.example.com/notebooks",
		"http://[::1]:80/":                   "http://[::1]",
		"http://[::1]:8080":                  "http://[::1]:8080",
		" http://127.0.0.1:8080 ":            "http://127.0.0.1:8080",
	} {
		if got := CanonicalMaster(in); got != want {
			t.Errorf("CanonicalMaster(%q) = %q, want %q", in, got, want)
		}
	}
	if MungePayload("http://127.0.0.1:8080/") != "det-bridge login http://127.0.0.1:8080" {
		t.Errorf("payload %q", MungePayload("http://127.0.0.1:8080/"))
	}
}
