// Package jobspec is the contract between the bridge and the job: the
// task.json the bridge writes for det-launcher, the launcher's callbacks
// and reports, the proof of a direct-mode port, the image checks the
// bridge asks of det-launcher, and a shell's websocket control messages.
// It imports nothing of the project, so each side sees it alone.
package jobspec

import "time"

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

// Task kinds.
const (
	KindNotebook = "notebook"
	KindShell    = "shell"
)

// Proxy modes: how the bridge's proxy reaches a task (site config
// proxy_mode, Spec.ProxyMode).
const (
	// ProxyModeTunnel: the job dials the bridge (TunnelPath) and carries
	// the proxy's connections over that one connection; nothing of the
	// job listens on a network port.
	ProxyModeTunnel = "tunnel"
	// ProxyModeDirect: the job holds a TCP port on its node and the
	// bridge connects to it, after a proof (ProofAnswer).
	ProxyModeDirect = "direct"
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
	// ProxyMode is ProxyModeTunnel or ProxyModeDirect; empty (specs
	// written before it existed) is direct.
	ProxyMode string `json:"proxy_mode,omitempty"`
	// HeartbeatSeconds is how often the launcher reports Jupyter's state.
	HeartbeatSeconds int `json:"heartbeat_seconds"`
	// Context is the path of the context archive, "" for none.
	Context string `json:"context,omitempty"`
	// CLIPath is the det binary to put on the container's PATH, with
	// UserToken in DET_USER_TOKEN: a token of the owner made for this task,
	// valid only while it lives, that cannot manage users, passwords or
	// tokens, nor use the admin routes.
	CLIPath   string `json:"cli_path,omitempty"`
	UserToken string `json:"user_token,omitempty"`
	Master    string `json:"master,omitempty"`
	// User and ResourcePool name the task's owner (a bridge account) and
	// pool, for Determined's DET_USER and DET_RESOURCE_POOL.
	User         string `json:"user,omitempty"`
	ResourcePool string `json:"resource_pool,omitempty"`
	// Cluster is the Slurm cluster the job was submitted to with -M; ""
	// for the login node's own. The launcher's own Slurm commands name it
	// (the job's SLURM_CONF may be another cluster's).
	Cluster string `json:"cluster,omitempty"`
	// SSHAuthorizedKey is, for a shell, the one public key (an
	// authorized_keys line) its SSH server accepts; "" serves no SSH.
	SSHAuthorizedKey string `json:"ssh_authorized_key,omitempty"`
	// SSHHostKey is the OpenSSH private host key the shell's SSH server
	// presents (its public half is what clients pin); "" makes one at
	// start.
	SSHHostKey string `json:"ssh_host_key,omitempty"`
}

// SSHUpgrade is the Upgrade token of a connection to a shell's SSH
// server: the bridge sends it, with the task's token, on a connection to
// the launcher (through the tunnel, or to the proven port); after the
// launcher's 101 answer the connection carries SSH.
const SSHUpgrade = "det-ssh/1"

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
