package jobspec

// A shell's websocket (/proxy/<id>/shell) carries terminal bytes only in
// binary frames and control messages only in text frames, both ways:
// keystrokes and the terminal's output are binary; a text frame is always
// a ShellControl. Nothing a program prints or a user types is ever read as
// a control message.

// Shell control message types.
const (
	// ShellResize, client to shell: the terminal's new size.
	ShellResize = "resize"
	// ShellExit, shell to clients: the shell ended with Code; it is the
	// last message before the connection closes.
	ShellExit = "exit"
)

// ShellControl is the one text message of a shell's websocket.
type ShellControl struct {
	Type string `json:"type"` // ShellResize or ShellExit; others are ignored
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
	Code int    `json:"code,omitempty"`
}
