package bridge

import (
	"time"

	"github.com/det-slurm/bridge/jobspec"
	"github.com/det-slurm/bridge/taskconfig"
)

// IdleInput is everything the idle decision looks at.
type IdleInput struct {
	Timeout  time.Duration // zero: never idle
	Type     string        // notebook_idle_type
	Quiet    time.Duration // time since the proxy last saw counted activity (or since RUNNING)
	Report   *jobspec.JupyterReport
	ReportAt time.Time // when Report arrived; zero when there is none
	Now      time.Time
	// ReportMaxAge is how old a report may be and still be believed.
	ReportMaxAge time.Duration
	// Shell judges a det shell: active while a client is attached or a
	// command other than the shell holds its terminal.
	Shell bool
}

// IdleFor is how long the notebook has been idle: the proxy's quiet time,
// or, when Jupyter's report tells of an older last activity under the
// activity idle type, no more than since that activity.
func (in IdleInput) IdleFor() time.Duration {
	idle := in.Quiet
	if r := in.Report; r != nil && r.Error == "" && r.ActivityAgeSeconds >= 0 && in.Type == taskconfig.IdleActivity {
		age := time.Duration(r.ActivityAgeSeconds*float64(time.Second)) + in.Now.Sub(in.ReportAt)
		idle = min(idle, age)
	}
	return max(idle, 0)
}

// DecideIdle reports whether a notebook is idle: its proxied traffic has
// been quiet for the timeout AND Jupyter's report says it is not active
// under its idle type. A busy kernel is active under every type. Without a
// recent report, the notebook counts as idle only once it has also been
// quiet for twice the timeout (its Jupyter no longer answers its own API).
func DecideIdle(in IdleInput) bool {
	if in.Timeout <= 0 || in.Quiet < in.Timeout {
		return false
	}
	r := in.Report
	if r == nil || r.Error != "" || in.Now.Sub(in.ReportAt) > in.ReportMaxAge {
		return in.Quiet >= 2*in.Timeout
	}
	if in.Shell {
		return r.Attachments == 0 && !r.ForegroundBusy
	}
	// Only "busy" is work. Jupyter shows a kernel as "starting" until its
	// watcher sees the kernel's first status message, which it can miss
	// for good; the launcher then asks the kernel itself and reports
	// "busy" or "idle". A kernel still "starting" could not be asked, and
	// must not keep its notebook alive.
	for _, k := range r.Kernels {
		if k.ExecutionState == "busy" {
			return false
		}
	}
	switch in.Type {
	case taskconfig.IdleKernelConnections:
		for _, k := range r.Kernels {
			if k.Connections > 0 {
				return false
			}
		}
		return true
	case taskconfig.IdleActivity:
		if r.ActivityAgeSeconds < 0 {
			return true
		}
		age := time.Duration(r.ActivityAgeSeconds*float64(time.Second)) + in.Now.Sub(in.ReportAt)
		return age >= in.Timeout
	default: // kernels_or_terminals
		return len(r.Kernels) == 0 && len(r.Terminals) == 0 && r.Sessions == 0
	}
}
