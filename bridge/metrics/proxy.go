package metrics

import (
	"net/http"

	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/det-slurm/bridge/proxy"
)

// Proxy wraps the notebook proxy: it counts requests by status class,
// times plain HTTP requests, and counts the websockets open (an upgrade
// request lasts as long as its websocket).
func (m *Metrics) Proxy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upgrade := proxy.IsUpgrade(r)
		if upgrade {
			m.websockets.Inc()
			defer m.websockets.Dec()
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		m.proxyByClass(rec.status).Inc()
		if !upgrade {
			m.proxyLatency.Observe(time.Since(start).Seconds())
		}
	})
}

var classes = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx", "other"}

// classIndex is a status's place in classes.
func classIndex(code int) int {
	if code < 100 || code > 599 {
		return len(classes) - 1
	}
	return code/100 - 1
}

// proxyByClass is the request counter of a status's class, resolved once
// in New rather than by label on every request.
func (m *Metrics) proxyByClass(code int) prometheus.Counter {
	return m.proxyClassCounters[classIndex(code)]
}

// statusRecorder notes the status a handler writes. Unwrap lets
// http.ResponseController (which the reverse proxy uses to flush and to
// hijack for websockets) reach the writer underneath.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 || s.status < 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
