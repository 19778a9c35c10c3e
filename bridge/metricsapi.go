package bridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// handleMetrics serves /metrics on the main port, to admins only.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r) {
		return
	}
	s.metrics.Handler().ServeHTTP(w, r)
}

// serveMetrics serves /metrics without a login on the site config's
// metrics_listen until ctx ends.
func (s *Server) serveMetrics(ctx context.Context, l net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve metrics on %s: %w", l.Addr(), err)
	}
	return nil
}
