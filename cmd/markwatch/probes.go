package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/markwatch/markwatch/internal/telemetry"
)

// processRegistry is a long-running command's own metrics registry, with
// the Go runtime and process collectors and markwatch_build_info. Every
// part of the process registers on it, so that /metrics serves all of
// them: one scrape target per process.
func processRegistry(ruleVersion string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		telemetry.BuildInfo(version, ruleVersion))
	return reg
}

// probeMux serves /metrics from reg, /healthz from healthy (liveness) and
// /readyz from ready (readiness: an error says why not), the endpoints
// both long-running commands expose.
func probeMux(reg *prometheus.Registry, healthy func(time.Time) error, ready func() (string, error)) *http.ServeMux {
	mux := http.NewServeMux()
	// ContinueOnError: a collector that fails (the review queue's, when
	// the database does not answer) drops its own series, not the whole
	// scrape of the process; promhttp_metric_handler_errors_total counts it.
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := healthy(time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		msg, err := ready()
		if err != nil {
			writeProbeJSON(w, http.StatusServiceUnavailable, readiness{Ready: false, Reason: err.Error()})
			return
		}
		writeProbeJSON(w, http.StatusOK, readiness{Ready: true, Status: msg})
	})
	return mux
}

// readiness is the body of /readyz: a machine can read ready, a person the
// status or, when not ready, the reason and what to check.
type readiness struct {
	Ready  bool   `json:"ready"`
	Status string `json:"status,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// writeProbeJSON answers a probe with v as JSON, never cached: a probe's
// answer is about now.
func writeProbeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// startHTTP serves h on ln with every timeout set; the returned stop shuts
// the server down within a second and reports a serving error, if any.
func startHTTP(ln net.Listener, h http.Handler) (stop func() error) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	served := make(chan error, 1)
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			served <- err
		}
		close(served)
	}()
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err, ok := <-served; ok && err != nil {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	}
}
