package api

import "encoding/json"

// ExtendRequest is the body of POST /api/v1/notebooks/{id}/extend (and
// /shells/{id}/extend), the bridge's own route (Determined has none): By
// is the time to add, as a Go duration ("1h", "90m") or minutes ("30").
type ExtendRequest struct {
	By string `json:"by"`
}

// Extension is what an extension did: the job's time limit before and
// after, and the pool's policy.
type Extension struct {
	// AddedSeconds is the time added (By rounded up to whole minutes,
	// Slurm's resolution).
	AddedSeconds int64 `json:"addedSeconds"`
	// TimeLimitSeconds is the job's new time limit, as Slurm now has it.
	TimeLimitSeconds int64 `json:"timeLimitSeconds"`
	// Extensions counts this notebook's extensions, this one included;
	// MaxExtensions is the pool's bound (0: none but the walltime).
	Extensions    int `json:"extensions"`
	MaxExtensions int `json:"maxExtensions"`
	// MaxWalltimeSeconds is the pool's longest time limit.
	MaxWalltimeSeconds int64 `json:"maxWalltimeSeconds"`
}

// ExtendNotebookResponse answers POST /api/v1/notebooks/{id}/extend: the
// notebook with its new time remaining.
type ExtendNotebookResponse struct {
	Notebook  Notebook  `json:"notebook"`
	Extension Extension `json:"extension"`
}

// ExtendShellResponse answers POST /api/v1/shells/{id}/extend.
type ExtendShellResponse struct {
	Shell     Shell     `json:"shell"`
	Extension Extension `json:"extension"`
}

// RelaunchNotebookResponse answers POST /api/v1/notebooks/{id}/relaunch
// (the bridge's own route): the new notebook, which runs with the ended
// one's config, pool and context files, the config, what could not be
// carried over (Warnings, never null), and the id of the ended one.
type RelaunchNotebookResponse struct {
	Notebook Notebook        `json:"notebook"`
	Config   json.RawMessage `json:"config"`
	Warnings []string        `json:"warnings"`
	Replaces string          `json:"replaces"`
}

// RelaunchShellResponse answers POST /api/v1/shells/{id}/relaunch.
type RelaunchShellResponse struct {
	Shell    Shell           `json:"shell"`
	Config   json.RawMessage `json:"config"`
	Warnings []string        `json:"warnings"`
	Replaces string          `json:"replaces"`
}
