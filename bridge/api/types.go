// Package api holds the JSON types of the bridge's REST API, shared by the
// bridge, its Go client and the CLI.
package api

import (
	"net"
	"net/url"
	"strings"
	"time"
)

// LoginRequest is the body of POST /api/v1/auth/login.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LoginResponse carries the bearer token for later requests.
type LoginResponse struct {
	Token string `json:"token"`
}

// Master is the body of GET /api/v1/master: the bridge and its view of
// Slurm.
type Master struct {
	Version string      `json:"version"`
	Slurm   SlurmStatus `json:"slurm"`
}

// SlurmStatus says whether the bridge's view of Slurm is current.
type SlurmStatus struct {
	Stale  bool       `json:"stale"`
	Error  string     `json:"error,omitempty"`
	Since  *time.Time `json:"since,omitempty"`
	LastOK *time.Time `json:"last_ok,omitempty"`
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

// Task kinds.
const (
	KindNotebook = "notebook"
	KindShell    = "shell"
)

// Header names used by the launcher's callbacks.
const SecretHeader = "X-Det-Task-Secret"

// Spec is what the bridge writes to <jobdir>/task.json (mode 0600) for the
// launcher: everything the job needs, so no user value enters the batch
// script.
type Spec struct {
	TaskID       string   `json:"task_id"`
	Kind         string   `json:"kind"` // KindNotebook or KindShell
	JobDir       string   `json:"job_dir"`
	Runtime      string   `json:"runtime"`        // apptainer, singularity or none
	RuntimeBin   string   `json:"runtime_binary"` // path or name of the runtime's binary
	Image        string   `json:"image"`
	Slots        int      `json:"slots"`
	Binds        []string `json:"binds"` // src:dst[:ro], already validated
	Env          []string `json:"env"`   // NAME=VALUE
	WorkDir      string   `json:"work_dir"`
	BaseURL      string   `json:"base_url"` // /proxy/<id>/
	JupyterToken string   `json:"jupyter_token"`
	CallbackURL  string   `json:"callback_url"`
	Secret       string   `json:"secret"`
	AllowOrigin  string   `json:"allow_origin"` // the bridge's external origin, for Jupyter's websocket origin check
	// ProofKey answers the bridge's check of the notebook's port (see
	// ProofAnswer); unlike Secret it is never sent anywhere. Empty in
	// specs written before it existed: the launcher then answers no proof.
	ProofKey string `json:"proof_key,omitempty"`
	// HeartbeatSeconds is how often the launcher reports Jupyter's state.
	HeartbeatSeconds int `json:"heartbeat_seconds"`
	// Context is the path of the context archive, "" for none.
	Context string `json:"context,omitempty"`
	// CLIPath is the det binary to put on the container's PATH, with
	// UserToken in DET_USER_TOKEN: a token of the owner made for this task,
	// valid only while it lives, that cannot manage users, passwords or
	// tokens.
	CLIPath   string `json:"cli_path,omitempty"`
	UserToken string `json:"user_token,omitempty"`
	Master    string `json:"master,omitempty"`
}

// ExitRecord is written by the launcher to <jobdir>/exit.json when the
// notebook server ends, so the bridge learns the exit code even when the
// callback cannot reach it.
type ExitRecord struct {
	ExitCode int       `json:"exit_code"`
	Message  string    `json:"message,omitempty"`
	Time     time.Time `json:"time"`
}

// JupyterReport is the launcher's heartbeat: what Jupyter's own API says
// about its kernels, terminals and sessions (POST /api/v1/tasks/{id}/heartbeat).
type JupyterReport struct {
	Kernels   []KernelState   `json:"kernels"`
	Terminals []TerminalState `json:"terminals"`
	Sessions  int             `json:"sessions"`
	// ActivityAgeSeconds is how long ago, by the node's clock, the newest
	// kernel or terminal last_activity was; -1 when there is none.
	ActivityAgeSeconds float64 `json:"activity_age_seconds"`
	// Error is set when Jupyter's API could not be read.
	Error string `json:"error,omitempty"`
	// Shells only: how many clients are attached, and whether a command
	// other than the shell itself holds the terminal.
	Attachments    int  `json:"attachments"`
	ForegroundBusy bool `json:"foreground_busy"`
}

// KernelState is one kernel in a JupyterReport.
type KernelState struct {
	ID             string `json:"id"`
	ExecutionState string `json:"execution_state"`
	Connections    int    `json:"connections"`
}

// TerminalState is one terminal in a JupyterReport.
type TerminalState struct {
	Name string `json:"name"`
}

// User is a bridge account as the API shows it.
type User struct {
	Username  string `json:"username"`
	Admin     bool   `json:"admin"`
	Active    bool   `json:"active"`
	AgentUser string `json:"agent_user,omitempty"`
	AgentUID  *int   `json:"agent_uid,omitempty"`
}

// CreateUserRequest is the body of POST /api/v1/users.
type CreateUserRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Admin    bool   `json:"admin"`
}

// PasswordRequest is the body of POST /api/v1/users/{name}/password.
// Changing one's own password needs the current one in OldPassword (an
// admin resetting another user's password gives none); the change revokes
// every other token of the user.
type PasswordRequest struct {
	Password    string `json:"password"`
	OldPassword string `json:"old_password,omitempty"`
}

// LinkRequest is the body of POST /api/v1/users/{name}/link.
type LinkRequest struct {
	AgentUser  string `json:"agent_user"`
	AgentUID   *int   `json:"agent_uid,omitempty"`
	AgentGroup string `json:"agent_group,omitempty"`
	AgentGID   *int   `json:"agent_gid,omitempty"`
}

// MungeLoginRequest is the body of POST /api/v1/auth/munge: a credential
// from `munge -s "$(MungePayload(master))"`, proving the caller's POSIX
// identity on the cluster. The bridge takes it only when its payload names
// this bridge and it is at most a minute old.
type MungeLoginRequest struct {
	Credential string `json:"credential"`
}

// MungePayload is the payload of a munge credential made to log in to the
// bridge at master (its URL as the user gives it, e.g. DET_MASTER). Naming
// the bridge keeps a credential made for anything else (`munge -n`,
// another service, another bridge) from being replayed at it.
func MungePayload(master string) string {
	return "det-bridge login " + CanonicalMaster(master)
}

// CanonicalMaster is a bridge URL without what does not change the bridge
// it names: case of scheme and host, a default port, a trailing slash.
func CanonicalMaster(master string) string {
	u, err := url.Parse(strings.TrimSpace(master))
	if err != nil || u.Host == "" {
		return strings.TrimSuffix(strings.TrimSpace(master), "/")
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if h, port, err := net.SplitHostPort(host); err == nil && (scheme == "http" && port == "80" || scheme == "https" && port == "443") {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	return scheme + "://" + host + strings.TrimSuffix(u.EscapedPath(), "/")
}

// ResourcePool is one pool and its capacity (GET /api/v1/resource-pools).
type ResourcePool struct {
	Name             string `json:"name"`
	Description      string `json:"description"`
	Partition        string `json:"partition"`
	GPUType          string `json:"gpu_type,omitempty"`
	DefaultCompute   bool   `json:"default_compute"`
	DefaultAux       bool   `json:"default_aux"`
	NodesUp          int    `json:"nodes_up"`
	NodesTotal       int    `json:"nodes_total"`
	GPUsTotal        int    `json:"gpus_total"`
	GPUsUsed         int    `json:"gpus_used"`
	CPUsTotal        int    `json:"cpus_total"`
	CPUsUsed         int    `json:"cpus_used"`
	NotebooksRunning int    `json:"notebooks_running"`
	NotebooksQueued  int    `json:"notebooks_queued"`
	SlotsPerNode     int    `json:"slots_per_node"`
	MaxSlots         int    `json:"max_slots,omitempty"`
	IdleTimeout      string `json:"idle_timeout,omitempty"`
	Image            string `json:"image,omitempty"`
}
