// Package metrics holds the bridge's Prometheus metrics: counters and
// histograms the bridge feeds as things happen, and gauges read from a
// Source when Prometheus scrapes. Every name starts with det_bridge_ and
// every label has a bounded set of values (pool, kind, state, reason,
// Slurm command, status class); no label ever carries a task id or a user
// name.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const ns = "det_bridge"

// Metrics are the bridge's collectors, on a registry of their own.
type Metrics struct {
	reg *prometheus.Registry

	idleCancels    *prometheus.CounterVec
	gpuSecondsBack *prometheus.CounterVec
	cancellations  *prometheus.CounterVec
	queueWait      *prometheus.HistogramVec
	timeToReady    *prometheus.HistogramVec
	proxyRequests  *prometheus.CounterVec
	// proxyClassCounters are proxyRequests' counters, one per class.
	proxyClassCounters [len(classes)]prometheus.Counter
	proxyLatency       prometheus.Histogram
	websockets         prometheus.Gauge
	slurmCommands      *prometheus.CounterVec
	slurmErrors        *prometheus.CounterVec
	slurmDuration      *prometheus.HistogramVec
	loginsFailed       prometheus.Counter
	loginsRefused      prometheus.Counter
	heartbeatsTotal    prometheus.Counter
	sshOpen            prometheus.Gauge
	sshRefused         prometheus.Counter
}

// waitBuckets are for queue waits and start-up times: from seconds to a
// day in the queue.
var waitBuckets = []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400}

// New makes the collectors and registers them, with the Go runtime's and
// the process's own, and src's gauges (src may be nil in tests).
func New(src Source) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.idleCancels = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "idle_cancellations_total",
		Help: "Notebooks and shells cancelled because they were idle, by pool."}, []string{"pool"})
	m.gpuSecondsBack = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "idle_gpu_seconds_returned_total",
		Help: "GPU-seconds given back by idle cancellation: each cancelled task's GPUs times how long it had been idle."}, []string{"pool"})
	m.cancellations = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "cancellations_total",
		Help: "Tasks whose Slurm job the bridge cancelled, by reason (idle, user, admin)."}, []string{"reason"})
	m.queueWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "queue_wait_seconds",
		Help: "Time from submission until Slurm started the job, by pool.", Buckets: waitBuckets}, []string{"pool"})
	m.timeToReady = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "time_to_ready_seconds",
		Help: "Time from submission until the notebook or shell answered, by pool.", Buckets: waitBuckets}, []string{"pool"})
	m.proxyRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "proxy_requests_total",
		Help: "Requests through the notebook proxy, by status class (2xx, 3xx, 4xx, 5xx; 1xx for websocket upgrades)."}, []string{"code"})
	m.proxyLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "proxy_request_duration_seconds",
		Help: "Time to serve a proxied HTTP request (websockets excluded).", Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12)})
	m.websockets = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "proxy_websockets_open",
		Help: "Websockets open through the notebook proxy."})
	m.slurmCommands = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "slurm_commands_total",
		Help: "Slurm commands the bridge ran, by command."}, []string{"command"})
	m.slurmErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "slurm_command_errors_total",
		Help: "Slurm commands that failed, by command."}, []string{"command"})
	m.slurmDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "slurm_command_duration_seconds",
		Help: "How long Slurm commands took, by command.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}, []string{"command"})
	m.loginsFailed = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "logins_failed_total",
		Help: "Logins refused for a wrong user name or password."})
	m.loginsRefused = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "logins_rate_limited_total",
		Help: "Logins refused by the rate limit, without checking the password."})
	m.heartbeatsTotal = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "heartbeats_total",
		Help: "Reports received from running notebooks' launchers."})
	m.sshOpen = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "shell_ssh_connections_open",
		Help: "SSH connections open through the bridge to shells' SSH servers."})
	m.sshRefused = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "shell_ssh_refused_total",
		Help: "SSH connections to shells refused before reaching them (no or another user's token, another POSIX user, a browser)."})
	for _, c := range []prometheus.Collector{m.sshOpen, m.sshRefused, m.idleCancels, m.gpuSecondsBack, m.cancellations, m.queueWait, m.timeToReady,
		m.proxyRequests, m.proxyLatency, m.websockets, m.slurmCommands, m.slurmErrors, m.slurmDuration,
		m.loginsFailed, m.loginsRefused, m.heartbeatsTotal,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	if src != nil {
		f(&snapshotCollector{src: src})
	}
	for i, c := range classes {
		m.proxyClassCounters[i] = m.proxyRequests.WithLabelValues(c)
	}
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Registry is the registry the collectors are on, for tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// IdleCancelled counts an idle cancellation of a task holding gpus GPUs
// that had been idle for idle.
func (m *Metrics) IdleCancelled(pool string, gpus int, idle time.Duration) {
	m.idleCancels.WithLabelValues(pool).Inc()
	m.gpuSecondsBack.WithLabelValues(pool).Add(float64(gpus) * idle.Seconds())
}

// Cancelled counts a job the bridge cancelled, for one of a few reasons.
func (m *Metrics) Cancelled(reason string) { m.cancellations.WithLabelValues(reason).Inc() }

// Started records how long a task waited in Slurm's queue.
func (m *Metrics) Started(pool string, wait time.Duration) {
	m.queueWait.WithLabelValues(pool).Observe(wait.Seconds())
}

// Ready records how long a task took from submission to answering.
func (m *Metrics) Ready(pool string, took time.Duration) {
	m.timeToReady.WithLabelValues(pool).Observe(took.Seconds())
}

// LoginFailed counts a refused password.
func (m *Metrics) LoginFailed() { m.loginsFailed.Inc() }

// LoginRateLimited counts a login refused by the rate limit.
func (m *Metrics) LoginRateLimited() { m.loginsRefused.Inc() }

// SSHOpened counts an SSH connection to a shell as open; the function it
// returns counts it closed.
func (m *Metrics) SSHOpened() func() {
	m.sshOpen.Inc()
	return m.sshOpen.Dec
}

// SSHRefused counts an SSH connection to a shell refused.
func (m *Metrics) SSHRefused() { m.sshRefused.Inc() }

// Heartbeat counts a launcher's report.
func (m *Metrics) Heartbeat() { m.heartbeatsTotal.Inc() }

// SlurmCommand records one run of a Slurm command (its base name).
func (m *Metrics) SlurmCommand(name string, took time.Duration, err error) {
	m.slurmCommands.WithLabelValues(name).Inc()
	m.slurmDuration.WithLabelValues(name).Observe(took.Seconds())
	if err != nil {
		m.slurmErrors.WithLabelValues(name).Inc()
	}
}

// timeout bounds the reads a scrape makes.
const timeout = 10 * time.Second

func scrapeContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), timeout)
}

// IdleGPUSeconds is the counter of GPU-seconds given back in a pool, for
// tests.
func (m *Metrics) IdleGPUSeconds(pool string) prometheus.Counter {
	return m.gpuSecondsBack.WithLabelValues(pool)
}

// CancellationsBy is the counter of cancellations for a reason, for tests.
func (m *Metrics) CancellationsBy(reason string) prometheus.Counter {
	return m.cancellations.WithLabelValues(reason)
}
