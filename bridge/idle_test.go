package bridge

import (
	"testing"
	"time"

	"github.com/det-slurm/bridge/jobspec"
)

func TestDecideIdle(t *testing.T) {
	now := time.Now()
	min := time.Minute
	fresh := func(r jobspec.JupyterReport) IdleInput {
		return IdleInput{Timeout: 10 * time.Second, Quiet: 11 * time.Second, Report: &r, ReportAt: now.Add(-time.Second), Now: now, ReportMaxAge: min}
	}
	none := jobspec.JupyterReport{ActivityAgeSeconds: -1}
	idleKernel := jobspec.JupyterReport{Kernels: []jobspec.KernelState{{ID: "k", ExecutionState: "idle"}}, ActivityAgeSeconds: 30}
	busyKernel := jobspec.JupyterReport{Kernels: []jobspec.KernelState{{ID: "k", ExecutionState: "busy"}}, ActivityAgeSeconds: 30}
	connected := jobspec.JupyterReport{Kernels: []jobspec.KernelState{{ID: "k", ExecutionState: "idle", Connections: 1}}, ActivityAgeSeconds: 30}
	recent := jobspec.JupyterReport{Kernels: []jobspec.KernelState{{ID: "k", ExecutionState: "idle"}}, ActivityAgeSeconds: 2}
	terminal := jobspec.JupyterReport{Terminals: []jobspec.TerminalState{{Name: "1"}}, ActivityAgeSeconds: 30}

	with := func(in IdleInput, f func(*IdleInput)) IdleInput { f(&in); return in }
	cases := []struct {
		name string
		in   IdleInput
		want bool
	}{
		{"no timeout never idle", with(fresh(none), func(i *IdleInput) { i.Timeout = 0 }), false},
		{"recent proxy traffic", with(fresh(none), func(i *IdleInput) { i.Quiet = 5 * time.Second }), false},
		{"nothing at all", fresh(none), true},
		{"default: kernel exists", fresh(idleKernel), false},
		{"default: terminal exists", fresh(terminal), false},
		{"default: session exists", fresh(jobspec.JupyterReport{Sessions: 1, ActivityAgeSeconds: -1}), false},
		{"connections: kernel without connection", with(fresh(idleKernel), func(i *IdleInput) { i.Type = "kernel_connections" }), true},
		{"connections: connected kernel", with(fresh(connected), func(i *IdleInput) { i.Type = "kernel_connections" }), false},
		{"connections: terminal alone does not count", with(fresh(terminal), func(i *IdleInput) { i.Type = "kernel_connections" }), true},
		{"activity: old last_activity", with(fresh(idleKernel), func(i *IdleInput) { i.Type = "activity" }), true},
		{"activity: recent last_activity", with(fresh(recent), func(i *IdleInput) { i.Type = "activity" }), false},
		{"activity: no kernels", with(fresh(none), func(i *IdleInput) { i.Type = "activity" }), true},
		{"busy kernel keeps every type", with(fresh(busyKernel), func(i *IdleInput) { i.Type = "kernel_connections" }), false},
		{"kernel Jupyter still calls starting does not keep it", with(fresh(jobspec.JupyterReport{Kernels: []jobspec.KernelState{{ID: "k", ExecutionState: "starting"}}, ActivityAgeSeconds: 30}), func(i *IdleInput) { i.Type = "kernel_connections" }), true},
		{"busy kernel keeps activity", with(fresh(busyKernel), func(i *IdleInput) { i.Type = "activity" }), false},
		{"no report yet: quiet once", with(fresh(none), func(i *IdleInput) { i.Report = nil }), false},
		{"no report: quiet twice the timeout", with(fresh(none), func(i *IdleInput) { i.Report = nil; i.Quiet = 21 * time.Second }), true},
		{"stale report is not believed", with(fresh(busyKernel), func(i *IdleInput) { i.ReportAt = now.Add(-2 * min) }), false},
		{"stale report, long quiet", with(fresh(busyKernel), func(i *IdleInput) { i.ReportAt = now.Add(-2 * min); i.Quiet = time.Hour }), true},
		{"report with error is not believed", with(fresh(jobspec.JupyterReport{Error: "refused"}), func(i *IdleInput) {}), false},
		{"shell: attached", with(fresh(jobspec.JupyterReport{Attachments: 1}), func(i *IdleInput) { i.Shell = true }), false},
		{"shell: a command runs", with(fresh(jobspec.JupyterReport{ForegroundBusy: true}), func(i *IdleInput) { i.Shell = true }), false},
		{"shell: nobody, nothing", with(fresh(jobspec.JupyterReport{}), func(i *IdleInput) { i.Shell = true }), true},
	}
	for _, c := range cases {
		if got := DecideIdle(c.in); got != c.want {
			t.Errorf("%s: idle=%v, want %v", c.name, got, c.want)
		}
	}
}
