// Package api holds the JSON types of the bridge's REST API, shared by the
// bridge, its Go client and the CLI.
package api

import "time"

// Task states, in lifecycle order.
const (
	StateQueued      = "QUEUED"
	StateStarting    = "STARTING"
	StateRunning     = "RUNNING"
	StateTerminating = "TERMINATING"
	StateTerminated  = "TERMINATED"
)

// Terminal reports whether a task in state s will never change again.
func Terminal(s string) bool { return s == StateTerminated }

// LoginRequest is the body of POST /api/v1/auth/login.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LoginResponse carries the bearer token for later requests.
type LoginResponse struct {
	Token string `json:"token"`
}

// NotebookRequest is the body of POST /api/v1/notebooks. Config holds the
// user's notebook config (already merged from --config-file and --config);
// the bridge adds the site's and the pool's defaults below it.
type NotebookRequest struct {
	Config map[string]any `json:"config"`
}

// Notebook is one notebook task as the API shows it.
type Notebook struct {
	ID             string    `json:"id"`
	Description    string    `json:"description"`
	State          string    `json:"state"`
	Reason         string    `json:"reason,omitempty"`
	Owner          string    `json:"owner"`
	ResourcePool   string    `json:"resource_pool"`
	Slots          int       `json:"slots"`
	RegisteredTime time.Time `json:"registered_time"`
	JobID          string    `json:"job_id,omitempty"`
	Node           string    `json:"node,omitempty"`
	ExitCode       *int      `json:"exit_code,omitempty"`
	ServiceAddress string    `json:"service_address"`
}

// NotebookList is the body of GET /api/v1/notebooks.
type NotebookList struct {
	Notebooks []Notebook `json:"notebooks"`
}

// ReadyRequest is sent by the launcher once Jupyter answers. The bridge
// takes the host from Slurm's record of the node, never from the caller.
type ReadyRequest struct {
	Node string `json:"node"`
	Port int    `json:"port"`
}

// ExitRequest is sent by the launcher when the notebook server has exited.
type ExitRequest struct {
	ExitCode int    `json:"exit_code"`
	Message  string `json:"message,omitempty"`
}

// LogLine is one line of a task's log stream (GET /api/v1/tasks/{id}/logs),
// sent as one JSON object per line.
type LogLine struct {
	Time    time.Time `json:"time"`
	Source  string    `json:"source"` // "bridge" or "job"
	Message string    `json:"message"`
}

// Error is the body of every 4xx/5xx answer of the API.
type Error struct {
	Error string `json:"error"`
}

// Header names used by the launcher's callbacks.
const SecretHeader = "X-Det-Task-Secret"
