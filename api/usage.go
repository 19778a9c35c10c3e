package api

import "time"

// UsageResponse is the body of GET /api/v1/admin/usage: each pool's use,
// one point a minute, over the hours asked for.
type UsageResponse struct {
	From        time.Time   `json:"from"`
	To          time.Time   `json:"to"`
	StepSeconds int         `json:"stepSeconds"`
	Pools       []PoolUsage `json:"pools"`
}

// PoolUsage is one pool's usage history, oldest point first.
type PoolUsage struct {
	Pool   string       `json:"pool"`
	Points []UsagePoint `json:"points"`
}

// UsagePoint is one minute of a pool's use: the GPUs of its running tasks
// and those held by idle ones, the median and 95th percentile queue wait
// in seconds of the jobs that started (null when none did), and the jobs
// the bridge cancelled, by reason.
type UsagePoint struct {
	Time          time.Time     `json:"time"`
	GPUsAllocated int           `json:"gpusAllocated"`
	GPUsIdle      int           `json:"gpusIdle"`
	QueueWaitP50  *float64      `json:"queueWaitP50"`
	QueueWaitP95  *float64      `json:"queueWaitP95"`
	Cancellations Cancellations `json:"cancellations"`
}

// Cancellations counts cancelled jobs by reason: idle (the bridge's idle
// timeout), user (the owner's kill) and admin (an admin's kill of another
// user's task).
type Cancellations struct {
	Idle  int `json:"idle"`
	User  int `json:"user"`
	Admin int `json:"admin"`
}
