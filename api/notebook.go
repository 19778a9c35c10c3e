package api

import (
	"encoding/json"
	"strings"
	"time"
)

// Task states: Determined's taskv1State names, in lifecycle order.
// StateUnspecified is only the state of a preview, which runs nothing.
const (
	StateUnspecified = "STATE_UNSPECIFIED"
	StateQueued      = "STATE_QUEUED"
	StateStarting    = "STATE_STARTING"
	StateRunning     = "STATE_RUNNING"
	StateTerminating = "STATE_TERMINATING"
	StateTerminated  = "STATE_TERMINATED"
)

// Terminal reports whether a task in state s will never change again.
func Terminal(s string) bool { return s == StateTerminated }

// StateName is a state as people read it: without the STATE_ prefix
// ("RUNNING").
func StateName(s string) string { return strings.TrimPrefix(s, "STATE_") }

// The bridge has one workspace; every notebook and shell is in it.
const (
	DefaultWorkspaceID   = 1
	DefaultWorkspaceName = "Uncategorized"
)

// Notebook is a notebook or a shell as the API shows it: Determined's
// v1Notebook (and v1Shell, whose further fields stay absent), then the
// bridge's own fields, which Determined's clients ignore.
type Notebook struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	State       string `json:"state"`
	// StartTime is when the bridge registered the task.
	StartTime time.Time `json:"startTime"`
	Username  string    `json:"username"`
	// UserID is the owner's bridge user id; absent when the owner's
	// account no longer exists.
	UserID       *int64 `json:"userId,omitempty"`
	ResourcePool string `json:"resourcePool"`
	// JobID is Determined's job id, which is the task's id here; Slurm's
	// job id is SlurmJobID.
	JobID       string `json:"jobId"`
	WorkspaceID int    `json:"workspaceId"`
	// ServiceAddress is the path the notebook is served at on the bridge
	// ("/proxy/<id>/"); clients put their master URL in front.
	ServiceAddress string `json:"serviceAddress"`
	// ExitStatus says how a terminated task ended (its Reason); absent
	// before.
	ExitStatus string `json:"exitStatus,omitempty"`

	// SlurmJobID is the Slurm job, once it is submitted.
	SlurmJobID string `json:"slurmJobId,omitempty"`
	// Cluster is the Slurm cluster of the job, on a site of several
	// (siteconfig's clusters:; "local" for the login node's own); absent
	// where there is one.
	Cluster  string `json:"cluster,omitempty"`
	Slots    int    `json:"slots"`
	Node     string `json:"node,omitempty"`
	Reason   string `json:"reason,omitempty"`
	ExitCode *int   `json:"exitCode,omitempty"`
	// EstimatedStart is Slurm's estimate while QUEUED, when it has one.
	EstimatedStart *time.Time `json:"estimatedStart,omitempty"`
	// TimeRemainingSeconds is the walltime left while running; absent
	// when the job has no time limit.
	TimeRemainingSeconds *int64 `json:"timeRemainingSeconds,omitempty"`
	// Restarts counts the times Slurm preempted the job and queued it
	// again (the task kept its id and URL); PreemptedTime is the last.
	Restarts      int        `json:"restarts,omitempty"`
	PreemptedTime *time.Time `json:"preemptedTime,omitempty"`
	// Extensions counts the times time was added to the job.
	Extensions int `json:"extensions,omitempty"`
	// Replaces is the ended task this one relaunched.
	Replaces string `json:"replaces,omitempty"`
	// Unreachable is set while a running task in tunnel mode has had no
	// tunnel for longer than the grace period; the task keeps running.
	Unreachable *Unreachable `json:"unreachable,omitempty"`
}

// Unreachable says since when, and why, the proxy cannot reach a running
// task: its job's tunnel to the bridge is gone.
type Unreachable struct {
	Since  time.Time `json:"since"`
	Reason string    `json:"reason"`
}

// Shell is a shell as the API shows it (Determined's v1Shell): a
// notebook's fields, and what an SSH client needs to reach the shell's
// SSH server through the bridge.
type Shell struct {
	Notebook
	// PrivateKey is the OpenSSH private key the shell's SSH server
	// accepts (made by the bridge for this shell); only its owner is
	// shown it. PublicKey is its authorized_keys line. SSH clients reach
	// the server through a websocket at ServiceAddress whose binary
	// messages carry the SSH bytes (as Determined's
	// `python -m determined.cli.tunnel MASTER ID` does).
	PrivateKey string `json:"privateKey,omitempty"`
	PublicKey  string `json:"publicKey,omitempty"`
	// AgentUserGroup is the POSIX user the shell runs as, in Determined's
	// form (its CLI logs in over SSH as AgentUserGroup.User).
	AgentUserGroup *ShellUser `json:"agentUserGroup,omitempty"`
	// SSHHostKey is the public host key of the shell's SSH server, as in
	// known_hosts ("ssh-ed25519 AAAA..."), for clients to pin; absent for
	// a shell whose server makes its own. The bridge's own field.
	SSHHostKey string `json:"sshHostKey,omitempty"`
}

// ShellUser is the POSIX identity of a shell as Determined's master
// shows it in v1Shell.agentUserGroup (snake_case, unlike AgentUserGroup).
// Ids the bridge does not know are absent.
type ShellUser struct {
	User  string `json:"user"`
	UID   *int   `json:"uid,omitempty"`
	Group string `json:"group,omitempty"`
	GID   *int   `json:"gid,omitempty"`
}

// LaunchRequest is the body of POST /api/v1/notebooks and /api/v1/shells
// (Determined's v1LaunchNotebookRequest and v1LaunchShellRequest).
// Config holds the user's config (already merged from --config-file and
// --config); the bridge adds the site's and the pool's defaults below it.
// Files are copied into the working directory. Preview answers with the
// merged config and launches nothing. Templates are not supported, and
// the only workspace is DefaultWorkspaceID.
type LaunchRequest struct {
	Config       map[string]any `json:"config"`
	Files        []File         `json:"files"`
	Preview      bool           `json:"preview,omitempty"`
	TemplateName *string        `json:"templateName,omitempty"`
	WorkspaceID  *int           `json:"workspaceId,omitempty"`
	// LegacyTemplateName is where Determined's CLI puts the template of
	// `det shell start --template`.
	LegacyTemplateName *string `json:"template_name,omitempty"`
}

// LaunchNotebookResponse answers POST /api/v1/notebooks. Config is the
// merged config the notebook runs with; Warnings is always empty.
type LaunchNotebookResponse struct {
	Notebook Notebook        `json:"notebook"`
	Config   json.RawMessage `json:"config"`
	Warnings []string        `json:"warnings"`
}

// LaunchShellResponse answers POST /api/v1/shells.
type LaunchShellResponse struct {
	Shell    Shell           `json:"shell"`
	Config   json.RawMessage `json:"config"`
	Warnings []string        `json:"warnings"`
}

// GetNotebooksResponse answers GET /api/v1/notebooks.
type GetNotebooksResponse struct {
	Notebooks  []Notebook  `json:"notebooks"`
	Pagination *Pagination `json:"pagination,omitempty"`
}

// GetShellsResponse answers GET /api/v1/shells.
type GetShellsResponse struct {
	Shells     []Shell     `json:"shells"`
	Pagination *Pagination `json:"pagination,omitempty"`
}

// GetNotebookResponse answers GET /api/v1/notebooks/{id}: the notebook
// and the merged config it runs with.
type GetNotebookResponse struct {
	Notebook Notebook        `json:"notebook"`
	Config   json.RawMessage `json:"config"`
}

// GetShellResponse answers GET /api/v1/shells/{id}.
type GetShellResponse struct {
	Shell  Shell           `json:"shell"`
	Config json.RawMessage `json:"config"`
}

// KillNotebookResponse answers POST /api/v1/notebooks/{id}/kill.
type KillNotebookResponse struct {
	Notebook Notebook `json:"notebook"`
}

// KillShellResponse answers POST /api/v1/shells/{id}/kill.
type KillShellResponse struct {
	Shell Shell `json:"shell"`
}
