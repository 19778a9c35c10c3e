package sshd

import "strings"

// envNames are the variables a client may set by name: the locale and the
// terminal's kind. Nothing that changes how a command is found or loaded
// (PATH, LD_*, shell start-up files, ...) is in either list.
var envNames = map[string]bool{
	"LANG":                 true,
	"LANGUAGE":             true,
	"TERM":                 true,
	"COLORTERM":            true,
	"TERM_PROGRAM":         true,
	"TERM_PROGRAM_VERSION": true,
	"NO_COLOR":             true,
}

// envPrefixes are the families of variables a client may set: the locale
// categories and the ones editors' remote modes send.
var envPrefixes = []string{"LC_", "VSCODE_"}

// envAllowed says whether a client may set name to value.
func envAllowed(name, value string) bool {
	if !validEnvName(name) || strings.ContainsRune(value, 0) {
		return false
	}
	if envNames[name] {
		return true
	}
	for _, p := range envPrefixes {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return true
		}
	}
	return false
}

// validEnvName says whether name is a portable variable name: letters,
// digits and underscores, not starting with a digit.
func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
