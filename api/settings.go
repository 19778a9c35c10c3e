package api

// Settings is the body of GET and PUT /api/v1/me/settings: the calling
// user's WebUI preferences, kept by the bridge.
type Settings struct {
	// LaunchShortcut opens the Launch JupyterLab dialog: modifiers (Ctrl,
	// Alt, Shift, Meta) and one key (A-Z, 0-9, F1-F12) joined by "+", as
	// in "Alt+Shift+J". "" turns the shortcut off.
	LaunchShortcut string `json:"launch_shortcut"`
	// DefaultLaunchShortcut is the shortcut of a user who never set one;
	// sent by GET, ignored by PUT.
	DefaultLaunchShortcut string `json:"default_launch_shortcut,omitempty"`
}
