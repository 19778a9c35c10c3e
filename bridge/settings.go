package bridge

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
)

// DefaultLaunchShortcut opens the Launch JupyterLab dialog for a user who
// never chose a shortcut.
const DefaultLaunchShortcut = "Alt+Shift+J"

// handleGetSettings answers GET /api/v1/me/settings.
func (s *Server) handleGetSettings(w http.ResponseWriter, r *http.Request) {
	out := api.Settings{LaunchShortcut: DefaultLaunchShortcut, DefaultLaunchShortcut: DefaultLaunchShortcut}
	st, err := s.store.UserSettings(r.Context(), currentUser(r).ID)
	switch {
	case err == nil:
		out.LaunchShortcut = st.LaunchShortcut
	case !errors.Is(err, store.ErrNotFound):
		s.internal(w, "read settings", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// handlePutSettings answers PUT /api/v1/me/settings: it checks and saves
// the settings and returns them as saved.
func (s *Server) handlePutSettings(w http.ResponseWriter, r *http.Request) {
	var req api.Settings
	if !readJSONLimit(w, r, &req, 4<<10) {
		return
	}
	sc, err := normalizeShortcut(req.LaunchShortcut)
	if err != nil {
		writeError(w, http.StatusBadRequest, "launch_shortcut: "+err.Error())
		return
	}
	if err := s.store.SetUserSettings(r.Context(), currentUser(r).ID, store.Settings{LaunchShortcut: sc}); err != nil {
		s.internal(w, "save settings", err)
		return
	}
	writeJSON(w, http.StatusOK, api.Settings{LaunchShortcut: sc, DefaultLaunchShortcut: DefaultLaunchShortcut})
}

// normalizeShortcut checks a key chord such as "shift+alt+j" and returns
// it in the one spelling the WebUI compares with ("Alt+Shift+J"):
// modifiers in the order Ctrl, Alt, Shift, Meta, then the key. Letters and
// digits need Ctrl, Alt or Meta, so the chord cannot take over typing.
func normalizeShortcut(in string) (string, error) {
	in = strings.TrimSpace(in)
	if in == "" {
		return "", nil
	}
	if len(in) > 64 {
		return "", errors.New("too long; write it like Alt+Shift+J")
	}
	order := []string{"Ctrl", "Alt", "Shift", "Meta"}
	aliases := map[string]string{"ctrl": "Ctrl", "control": "Ctrl", "alt": "Alt", "option": "Alt",
		"shift": "Shift", "meta": "Meta", "cmd": "Meta", "command": "Meta", "super": "Meta"}
	mods := map[string]bool{}
	key := ""
	for _, part := range strings.Split(in, "+") {
		part = strings.TrimSpace(part)
		if m, ok := aliases[strings.ToLower(part)]; ok {
			if mods[m] {
				return "", fmt.Errorf("%s is given twice in %q", m, in)
			}
			mods[m] = true
			continue
		}
		k, ok := shortcutKey(part)
		if !ok {
			return "", fmt.Errorf("%q is not a key a shortcut can use (A-Z, 0-9 or F1-F12, with Ctrl, Alt, Shift or Meta)", part)
		}
		if key != "" {
			return "", fmt.Errorf("%q names two keys, %s and %s; use one key with modifiers", in, key, k)
		}
		key = k
	}
	if key == "" {
		return "", fmt.Errorf("%q has no key besides the modifiers", in)
	}
	if len(key) == 1 && !mods["Ctrl"] && !mods["Alt"] && !mods["Meta"] {
		return "", fmt.Errorf("%q would fire while typing; add Ctrl, Alt or Meta", in)
	}
	var out []string
	for _, m := range order {
		if mods[m] {
			out = append(out, m)
		}
	}
	return strings.Join(append(out, key), "+"), nil
}

// shortcutKey returns the key's canonical name: an upper-case letter, a
// digit or F1-F12.
func shortcutKey(k string) (string, bool) {
	k = strings.ToUpper(k)
	if len(k) == 1 && (k[0] >= 'A' && k[0] <= 'Z' || k[0] >= '0' && k[0] <= '9') {
		return k, true
	}
	for i := 1; i <= 12; i++ {
		if k == fmt.Sprintf("F%d", i) {
			return k, true
		}
	}
	return "", false
}
